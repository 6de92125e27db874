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

/// What one successful backup produced.
public struct BackupOutcome: Sendable {
    public var record: BackupRecord
    public var duration: Double
    /// Backups that retention removed after this one was published.
    public var deleted: [String]
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

    public func run(_ job: Job, logger: Logger) async throws -> BackupOutcome {
        var logger = logger
        logger[metadataKey: "job"] = "\(job.name)"
        // First, so a missing or unwritable destination is named as such, not as a lock failure.
        try await job.destination.checkWritable()
        guard let locking = capability(of: job.destination, as: (any LockingDestination).self) else {
            return try await runLocked(job, logger: logger)
        }
        let (lock, previous) = try await locking.lock(job: job.name, wait: waitForLock, lease: lockLease)
        let jobLogger = logger
        let outcome: Result<BackupOutcome, any Error>
        do {
            outcome = .success(try await Self.renewing(lock, lease: lockLease, every: lockRenewal ?? lockLease / 3) {
                try await runHoldingLock(job, locking: locking, previous: previous, logger: jobLogger)
            })
        } catch {
            outcome = .failure(error)
        }
        do {
            // In a task of its own, so a run stopped by a signal (this task cancelled) still gives the
            // lock back rather than leaving the next run to wait for the lease to lapse.
            try await Task { try await lock.release() }.value
        } catch {
            // Not a failed backup: the lock lapses when its lease runs out, and the next run takes it over.
            logger.warning("could not release the job's lock (\(error)); it lapses after \(lockLease)")
        }
        return try outcome.get()
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

    /// The start-up clean-up and the backup, with the job's lock held.
    private func runHoldingLock(_ job: Job, locking: any LockingDestination, previous: String?, logger: Logger) async throws -> BackupOutcome {
        if let previous {
            logger.notice("took over the job's lock from \(previous), which ended without releasing it")
        }
        var leftovers = try await locking.removeLeftovers(job: job.name)
        // Sidecars whose backup is gone: a run killed while publishing, or retention while deleting. The
        // lock is held, so no run of this job is publishing them now.
        for problem in try await BackupCatalog.scan(job.name, in: job.destination).problems where problem.leftover {
            try await job.destination.delete(name: problem.name)
            leftovers.append(problem.name)
        }
        if !leftovers.isEmpty {
            logger.notice("removed what an interrupted run left behind: \(leftovers.joined(separator: ", "))")
        }
        return try await runLocked(job, logger: logger)
    }

    /// One backup, with the destination checked and the job's lock (where it has locks) already held.
    private func runLocked(_ job: Job, logger: Logger) async throws -> BackupOutcome {
        let info = try await job.source.prepare(logger: logger)
        let started = try await uniqueStart(job, info: info)
        let name = JobName.backupFileName(job: job.name, started: started, dumpExtension: info.fileExtension,
                                          stageExtensions: job.stageExtensions)
        let clock = ContinuousClock()
        let begin = clock.now
        let upload = try await job.destination.begin(name: name)
        let record: BackupRecord
        do {
            let stream = BackupStream(source: job.source, info: info, logger: logger) { [observer] raw in
                observer?.progress(job: job.name, rawBytes: raw, estimatedTotal: info.estimatedBytes,
                                   elapsed: (clock.now - begin).inSeconds)
            }
            let encoder = ChainTransform.chain(try job.stages.map { try $0.stage.makeEncoder() })
            let result = try await stream.run(encoder: encoder, upload: upload)
            let details = result.details
            let manifest = Manifest(
                job: job.name, file: name, database: info.database, serverVersion: info.serverVersion,
                dumpToolVersion: info.dumpToolVersion, format: info.format, stages: job.stageRecords,
                rawBytes: result.rawBytes, storedBytes: result.storedBytes,
                sha256: result.sha256,
                startedAt: started, finishedAt: now(), rowCounts: details.rowCounts,
                sidecars: details.sidecars.isEmpty ? nil : details.sidecars.map { name + $0.suffix })
            let extra = details.sidecars.map { (name: name + $0.suffix, bytes: $0.bytes) }
            let object = try await upload.commit(sidecars: extra + [(name + Manifest.suffix, try manifest.encoded())])
            record = BackupRecord(object: object, manifest: manifest)
        } catch {
            await upload.abort()
            observer?.finished(job: job.name)
            throw error
        }
        observer?.finished(job: job.name)
        let duration = (clock.now - begin).inSeconds
        let m = record.manifest
        logger.info("backup complete", metadata: [
            "file": "\(record.object.location)", "raw_bytes": "\(m.rawBytes)", "stored_bytes": "\(m.storedBytes)",
            "duration_s": "\(String(format: "%.2f", duration))", "sha256": "\(m.sha256)",
        ])
        try await beforeRetention?(record, job)
        let deleted = try await RetentionRunner.apply(job, justMade: record, logger: logger)
        return BackupOutcome(record: record, duration: duration, deleted: deleted)
    }

    /// File names have one-second resolution; two backups of a job in one second wait for the next one
    /// rather than overwrite or fail.
    private func uniqueStart(_ job: Job, info: SourceInfo) async throws -> Date {
        let existing = Set(try await job.destination.list(prefix: job.name + "_").map(\.name))
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
