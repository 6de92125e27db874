import Crypto
import Foundation
import Logging

/// Receives progress while a backup streams; the runner shows it on a terminal.
public protocol ProgressObserver: Sendable {
    /// Called at most a few times a second with the uncompressed bytes read so far.
    func progress(job: String, rawBytes: Int64, estimatedTotal: Int64?, elapsed: Double)
    /// Called once the dump ended, successfully or not, before the outcome is logged.
    func finished(job: String)
}

/// One destination's copy of a run's backup.
public struct BackupCopy: Sendable {
    /// The destination's name in the job (`b`, `b@eu`).
    public var destination: String
    public var record: BackupRecord
    /// Backups that this destination's retention removed after the copy was published.
    public var deleted: [String]
}

/// What one successful backup produced.
public struct BackupOutcome: Sendable {
    /// The first destination's copy (every copy has the same bytes and manifest).
    public var record: BackupRecord
    public var duration: Double
    /// Backups that retention removed after this one was published, at every destination.
    public var deleted: [String] { copies.flatMap(\.deleted) }
    /// Every destination's copy, in the order configured.
    public var copies: [BackupCopy]
}

/// A run that published its backup to some of the job's destinations but not all (or whose retention
/// failed at one): the copies that were published stay, and the run fails, naming each destination and why.
public struct PartialBackup: Error, CustomStringConvertible, Sendable {
    public var outcome: BackupOutcome
    public var failures: [DestinationFailure]

    public var description: String {
        let stored = outcome.copies.map(\.destination).joined(separator: ", ")
        return "partial backup: stored at \(stored) (\(outcome.record.name)); failed at "
            + failures.map(\.description).joined(separator: "; ")
    }
}

/// Runs one backup of one job: source → compressor → SHA-256 → destination, then retention.
///
/// Reading, compressing and writing overlap (``BackupStream``) with a fixed number of chunks in flight;
/// nothing is staged in a temporary file beyond the destination's own not-yet-published upload.
public struct BackupPipeline: Sendable {
    public var observer: (any ProgressObserver)?
    /// When another process runs the same job: wait for it (true) or fail at once (false).
    public var waitForLock = false
    /// How long the job's lock lasts unless renewed, where the destination's locks are leases; the run
    /// renews it every third of that while it works.
    public var lockLease: Duration = .seconds(300)
    /// How often the lease is renewed; nil: every third of the lease.
    public var lockRenewal: Duration?
    /// Runs on each published backup before retention (e.g. `verify = after-backup`); if it throws, the
    /// backup stays, retention does not run, and the run fails with that error.
    public var beforeRetention: (@Sendable (BackupRecord, Job) async throws -> Void)?
    /// Injected so tests control time; the timestamp in the file name comes from here.
    public var now: @Sendable () -> Date

    public init(observer: (any ProgressObserver)? = nil, now: @escaping @Sendable () -> Date = Date.init) {
        self.observer = observer
        self.now = now
    }

    /// Runs one backup to every destination of `job`. Throws when no destination published it, and
    /// ``PartialBackup`` when some did and others did not.
    public func run(_ job: Job, logger: Logger) async throws -> BackupOutcome {
        var logger = logger
        logger[metadataKey: "job"] = "\(job.name)"
        var run = FanOutRun(job: job)
        // First, so a missing or unwritable destination is named as such, not as a lock failure.
        for target in run.targets {
            do {
                try await target.destination.checkWritable()
            } catch {
                try run.fail(target.name, error)
            }
        }
        // Locks are taken in the order of the destinations' names, the same in every configuration that
        // lists them, so two runs never each hold a lock the other waits for; released in reverse.
        var lockers: [Locker] = []
        for target in run.targets.sorted(by: { $0.name < $1.name }) {
            guard let locking = capability(of: target.destination, as: (any LockingDestination).self) else { continue }
            do {
                let (lock, previous) = try await locking.lock(job: job.name, wait: waitForLock, lease: lockLease)
                lockers.append(Locker(target: target.name, destination: target.destination, locking: locking, lock: lock, previous: previous))
            } catch {
                do {
                    // Another run of this job holds a lock: this run goes ahead nowhere.
                    if (error as? BackupError)?.code == .targetBusy { throw error }
                    try run.fail(target.name, error)
                } catch {
                    await Self.release(lockers.reversed().map(\.lock), lease: lockLease, logger: logger)
                    throw error
                }
            }
        }
        guard !lockers.isEmpty else { return try await runLocked(run, logger: logger) }
        let locks = CombinedLock(lockers.map { ($0.target, $0.lock) })
        run.onDrop = { locks.drop($0) }
        return try await Self.holding(locks, releasing: lockers.reversed().map(\.lock), lease: lockLease,
                                      every: lockRenewal ?? lockLease / 3, logger: logger) {
            [run, lockers, logger] in try await runHoldingLocks(run, lockers: lockers, logger: logger)
        }
    }

    /// Runs `body` while renewing `lock`, then releases `locks` (those `lock` stands for) whatever the
    /// outcome, and returns or throws the body's.
    static func holding<T: Sendable>(_ lock: any JobLock, releasing locks: [any JobLock], lease: Duration, every interval: Duration,
                                     logger: Logger, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await renewing(lock, lease: lease, every: interval, body))
        } catch {
            outcome = .failure(error)
        }
        await release(locks, lease: lease, logger: logger)
        return try outcome.get()
    }

    /// A destination whose lock this run holds.
    struct Locker: Sendable {
        var target: String
        /// The job's destination (wrappers included), for the clean-up's listing and deletes.
        var destination: any Destination
        var locking: any LockingDestination
        var lock: any JobLock
        var previous: String?
    }

    /// Gives the locks back, each in a task of its own, so a run stopped by a signal (this task cancelled)
    /// still releases them rather than leaving the next run to wait for the lease to lapse.
    static func release(_ locks: [any JobLock], lease: Duration, logger: Logger) async {
        for lock in locks {
            do {
                try await Task { try await lock.release() }.value
            } catch {
                // Not a failed backup: the lock lapses when its lease runs out, and the next run takes it over.
                logger.warning("could not release the job's lock (\(error)); it lapses after \(lease)")
            }
        }
    }

    /// Runs `body` while renewing `lock` (taken for `lease`) every `interval`. A lock found lost
    /// (`.targetBusy`) stops `body` at once and is the error; other failures (a store that did not answer)
    /// are retried until the lease would lapse before the next try, and only then stop `body`.
    static func renewing<T: Sendable>(_ lock: any JobLock, lease: Duration, every interval: Duration,
                                      _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                let clock = ContinuousClock()
                var renewed = clock.now
                while true {
                    try await Task.sleep(for: interval)
                    do {
                        try await lock.renew()
                        renewed = clock.now
                    } catch let error as BackupError where error.code == .targetBusy {
                        throw error
                    } catch {
                        // Another try only if it still comes before the lease lapses.
                        if clock.now - renewed + interval >= lease { throw error }
                    }
                }
            }
            defer { group.cancelAll() }
            // The renewer never returns a value; the first result is the body's, or the first error.
            guard let result = try await group.next() ?? nil else { throw CancellationError() }
            return result
        }
    }

    /// The start-up clean-up at each locked destination, then the backup.
    private func runHoldingLocks(_ run: FanOutRun, lockers: [Locker], logger: Logger) async throws -> BackupOutcome {
        var run = run
        let job = run.job
        for locker in lockers where run.targets.contains(where: { $0.name == locker.target }) {
            let at = job.at(locker.target)
            if let previous = locker.previous {
                logger.notice("took over the job's lock\(at) from \(previous), which ended without releasing it")
            }
            do {
                var leftovers = try await locker.locking.removeLeftovers(job: job.name)
                // Sidecars whose backup is gone: a run killed while publishing, or retention while deleting.
                // The lock is held, so no run of this job is publishing them now.
                for problem in try await BackupCatalog.scan(job.name, in: locker.destination).problems where problem.leftover {
                    try await locker.destination.delete(name: problem.name)
                    leftovers.append(problem.name)
                }
                if !leftovers.isEmpty {
                    logger.notice("removed what an interrupted run left behind\(at): \(leftovers.joined(separator: ", "))")
                }
            } catch {
                try run.fail(locker.target, error)
            }
        }
        return try await runLocked(run, logger: logger)
    }

    /// One backup to every destination still in `run`, each checked and its lock (where it has locks) held.
    private func runLocked(_ run: FanOutRun, logger: Logger) async throws -> BackupOutcome {
        var run = run
        let job = run.job
        let info = try await job.source.prepare(logger: logger)
        let started = try await uniqueStart(&run, info: info)
        let name = JobName.backupFileName(job: job.name, started: started, dumpExtension: info.fileExtension,
                                          stageExtensions: job.stageExtensions)
        let clock = ContinuousClock()
        let begin = clock.now
        var uploads: [(name: String, upload: any Upload)] = []
        for target in run.targets {
            do {
                uploads.append((target.name, try await target.destination.begin(name: name)))
            } catch {
                do {
                    try run.fail(target.name, error)
                } catch {
                    for upload in uploads { await upload.upload.abort() }
                    throw error
                }
            }
        }
        let fanOut = FanOutUpload(uploads, onFailure: run.onDrop)
        let manifest: Manifest
        let published: [(name: String, object: StoredObject)]
        do {
            let stream = BackupStream(source: job.source, info: info, logger: logger) { [observer] raw in
                observer?.progress(job: job.name, rawBytes: raw, estimatedTotal: info.estimatedBytes,
                                   elapsed: (clock.now - begin).inSeconds)
            }
            let encoder = ChainTransform.chain(try job.stages.map { try $0.stage.makeEncoder() })
            let result = try await stream.run(encoder: encoder, upload: fanOut)
            let details = result.details
            manifest = Manifest(
                job: job.name, file: name, database: info.database, serverVersion: info.serverVersion,
                dumpToolVersion: info.dumpToolVersion, format: info.format, stages: job.stageRecords,
                rawBytes: result.rawBytes, storedBytes: result.storedBytes,
                sha256: result.sha256,
                startedAt: started, finishedAt: now(), rowCounts: details.rowCounts,
                sidecars: details.sidecars.isEmpty ? nil : details.sidecars.map { name + $0.suffix },
                sidecarChecksums: details.sidecars.isEmpty ? nil : Dictionary(
                    details.sidecars.map { (name + $0.suffix, SidecarChecksum(of: $0.bytes)) }, uniquingKeysWith: { first, _ in first }))
            let extra = details.sidecars.map { (name: name + $0.suffix, bytes: $0.bytes) }
            published = try await fanOut.commitAll(sidecars: extra + [(name + Manifest.suffix, try manifest.encoded())])
        } catch {
            await fanOut.abort()
            observer?.finished(job: job.name)
            // Every upload failed: name the destinations that were lost before the stream too.
            if !fanOut.failures.isEmpty, fanOut.failures.count == uploads.count, !run.failures.isEmpty {
                throw FanOutUpload.allFailed(run.failures + fanOut.failures)
            }
            throw error
        }
        observer?.finished(job: job.name)
        run.failures += fanOut.failures
        let duration = (clock.now - begin).inSeconds
        var copies = published.map {
            BackupCopy(destination: $0.name, record: BackupRecord(object: $0.object, manifest: manifest), deleted: [])
        }
        let record = copies[0].record
        var metadata: Logger.Metadata = [
            "file": "\(record.object.location)", "raw_bytes": "\(manifest.rawBytes)", "stored_bytes": "\(manifest.storedBytes)",
            "duration_s": "\(String(format: "%.2f", duration))", "sha256": "\(manifest.sha256)",
        ]
        if job.destinations.count > 1 {
            metadata["copies"] = "\(copies.map { "\($0.destination)=\($0.record.object.location)" }.joined(separator: " "))"
        }
        logger.info("backup complete", metadata: metadata)
        try await beforeRetention?(record, job.restricted(to: copies.map(\.destination)))
        // Retention only where the new backup was published, each destination by its own policy.
        for index in copies.indices {
            guard let target = job.destinations.first(where: { $0.name == copies[index].destination }) else { continue }
            do {
                copies[index].deleted = try await RetentionRunner.apply(job, at: target, justMade: copies[index].record, logger: logger)
            } catch {
                if job.destinations.count == 1 || Task.isCancelled { throw error }
                run.failures.append(DestinationFailure(destination: target.name, error: BackupError(.destination, "retention: \(error)")))
            }
        }
        let outcome = BackupOutcome(record: record, duration: duration, copies: copies)
        guard run.failures.isEmpty else { throw PartialBackup(outcome: outcome, failures: run.failures) }
        return outcome
    }

    /// File names have one-second resolution; two backups of a job in one second wait for the next one
    /// rather than overwrite or fail.
    /// The name must be free at every destination; one that cannot be listed is dropped from the run.
    private func uniqueStart(_ run: inout FanOutRun, info: SourceInfo) async throws -> Date {
        let job = run.job
        var existing: Set<String> = []
        for target in run.targets {
            do {
                existing.formUnion(try await target.destination.list(prefix: job.name + "_").map(\.name))
            } catch {
                try run.fail(target.name, error)
            }
        }
        // A clock that moves finds a free second within 1 s; one that does not (it was set back, or is
        // stopped) is an error after 10 s, not a wait for ever.
        // Both bounds: 10 s of wall time (a starved machine may take that for a few sleeps) and 5 tries.
        let clock = ContinuousClock()
        let begin = clock.now
        var tries = 0
        while tries < 5 || clock.now - begin < .seconds(10) {
            tries += 1
            let start = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
            let name = JobName.backupFileName(job: job.name, started: start, dumpExtension: info.fileExtension,
                                              stageExtensions: job.stageExtensions)
            if !existing.contains(name) { return start }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BackupError(.destination, "job \(job.name) already has a backup named for every second in the last 10 s; check the clock")
    }
}
