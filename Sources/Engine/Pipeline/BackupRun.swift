import Foundation
import Logging

/// One backup of one job, in the order ``BackupPipeline/run(_:logger:)`` takes the steps: check the
/// destinations, clean what interrupted runs left (holding the job's lock), stream and publish, verify,
/// apply retention, and say how it went. Which destinations still take part, and which failed and why,
/// lives in this one value: a destination that fails is dropped and the run goes on at the others.
struct BackupRun: Sendable {
    let job: Job
    let pipeline: BackupPipeline
    let logger: Logger
    /// The destinations still taking part, in the order configured.
    private(set) var targets: [JobDestination]
    private(set) var failures: [DestinationFailure] = []
    /// Told the name of each destination dropped, to stop renewing its lock.
    private var onDrop: (@Sendable (String) -> Void)?
    /// Seconds from the first byte streamed to the backup published everywhere.
    private(set) var duration = 0.0

    init(job: Job, pipeline: BackupPipeline, logger: Logger) {
        self.job = job
        self.pipeline = pipeline
        self.logger = logger
        targets = job.destinations
    }

    /// Drops destination `name` for `error`. Throws when none is left (with one destination, its own
    /// error) and when the run was cancelled, which stops it everywhere.
    mutating func fail(_ name: String, _ error: any Error) throws {
        if error is CancellationError || Task.isCancelled { throw error }
        targets.removeAll { $0.name == name }
        failures.append(DestinationFailure(destination: name, error: error))
        onDrop?(name)
        if targets.isEmpty { throw FanOutUpload.allFailed(failures) }
    }

    /// Each destination can be written to; one that cannot is dropped.
    mutating func checkDestinations() async throws {
        for target in targets {
            do {
                try await target.destination.checkWritable()
            } catch {
                try fail(target.name, error)
            }
        }
    }

    /// With the job's lock held: drops the destinations whose lock could not be taken, then removes at
    /// each locked destination what an interrupted run left (partial uploads, sidecars whose backup is
    /// gone). No run of this job is publishing there now.
    mutating func cleanLeftovers(_ holding: JobLockSession.Holding) async throws {
        onDrop = { holding.drop($0) }
        for failure in holding.unavailable { try fail(failure.destination, failure.error) }
        for held in holding.held where targets.contains(where: { $0.name == held.target }) {
            let at = job.at(held.target)
            if let previous = held.previous {
                logger.notice("took over the job's lock\(at) from \(previous), which ended without releasing it")
            }
            do {
                var leftovers = try await held.locking.removeLeftovers(job: job.name)
                let catalog = try await BackupCatalog.scan(job.name, database: job.database, in: held.destination)
                for problem in catalog.problems where problem.leftover {
                    try await held.destination.delete(name: problem.name)
                    leftovers.append(problem.name)
                }
                if !leftovers.isEmpty {
                    let names = leftovers.joined(separator: ", ")
                    logger.notice("removed what an interrupted run left behind\(at): \(names)")
                }
            } catch {
                try fail(held.target, error)
            }
        }
    }

    /// `verify = after-backup`: a backup that does not restore fails its run; it is kept, marked unverified
    /// at every destination that stored it, and retention does not run, so an unverifiable backup never
    /// displaces a verified one.
    func verify(_ copies: [BackupCopy]) async throws {
        guard job.verifyAfterBackup else { return }
        guard let registry = pipeline.registry else {
            throw BackupError(.config, "job \(job.name) has verify = after-backup, "
                + "but this run has no plugin registry to restore with")
        }
        let restorer = RestorePipeline(registry: registry)
        let stored = job.destinations.filter { target in copies.contains { $0.destination == target.name } }
        let record = copies[0].record
        let location = BackupLocation(target: stored[0].name, destination: stored[0].destination, record: record)
        var problem: String?
        do {
            let outcome = try await restorer.verify(location, job: job, logger: logger)
            problem = outcome.problem
            if problem == nil {
                logger.info("backup verified: \(outcome.checks.count) tables restored with the recorded row counts",
                            metadata: ["file": "\(record.name)"])
            }
        } catch {
            problem = "\(error)"
        }
        for target in stored {
            let verification = problem.map { "failed: \($0)" } ?? "passed"
            try await restorer.mark(record, verification: verification, in: target.destination)
        }
        if let problem {
            throw BackupError(.verificationFailed,
                              "backup verification failed (the backup is kept, marked unverified): \(problem)")
        }
    }

    /// Retention at each destination that stored the backup, by that destination's own policy. A failure
    /// there fails only that destination (the run is then partial), unless it is the job's only one.
    mutating func retain(_ copies: inout [BackupCopy]) async throws {
        for index in copies.indices {
            guard let target = job.destinations.first(where: { $0.name == copies[index].destination }) else { continue }
            do {
                copies[index].deleted = try await RetentionRunner.apply(job, at: target, justMade: copies[index].record,
                                                                        logger: logger)
            } catch {
                if job.destinations.count == 1 || Task.isCancelled { throw error }
                let failure = BackupError(.destination, "retention: \(error)")
                failures.append(DestinationFailure(destination: target.name, error: failure))
            }
        }
    }

    /// The outcome; ``PartialBackup`` when a destination failed on the way.
    func outcome(_ copies: [BackupCopy]) throws -> BackupOutcome {
        let outcome = BackupOutcome(record: copies[0].record, duration: duration, copies: copies)
        guard failures.isEmpty else { throw PartialBackup(outcome: outcome, failures: failures) }
        return outcome
    }
}

extension BackupRun {
    /// Streams the dump through the job's stages to every destination still taking part and publishes it
    /// there with its sidecars and manifest; returns each destination's copy, in the order configured.
    mutating func streamAndPublish() async throws -> [BackupCopy] {
        let info = try await job.source.prepare(logger: logger)
        let started = try await uniqueStart(info: info)
        let name = JobName.backupFileName(job: job.name, started: started, dumpExtension: info.fileExtension,
                                          stageExtensions: job.stageExtensions)
        let clock = ContinuousClock()
        let begin = clock.now
        let uploads = try await beginUploads(name)
        let fanOut = FanOutUpload(uploads, onFailure: onDrop)
        let manifest: Manifest
        let published: [(name: String, object: StoredObject)]
        do {
            let observer = pipeline.observer
            let stream = BackupStream(source: job.source, info: info, logger: logger) { [job] raw in
                observer?.progress(job: job.name, rawBytes: raw, estimatedTotal: info.estimatedBytes,
                                   elapsed: (clock.now - begin).inSeconds)
            }
            let encoder = ChainTransform.chain(try job.stages.map { try $0.stage.makeEncoder() })
            let result = try await stream.run(encoder: encoder, upload: fanOut)
            manifest = makeManifest(name, info: info, started: started, result: result)
            let sidecars = result.details.sidecars.map { (name: name + $0.suffix, bytes: $0.bytes) }
            let manifestFile = (name: name + Manifest.suffix, bytes: try manifest.encoded())
            published = try await fanOut.commitAll(sidecars: sidecars + [manifestFile])
        } catch {
            await fanOut.abort()
            pipeline.observer?.finished(job: job.name)
            // Every upload failed: name the destinations that were lost before the stream too.
            if !fanOut.failures.isEmpty, fanOut.failures.count == uploads.count, !failures.isEmpty {
                throw FanOutUpload.allFailed(failures + fanOut.failures)
            }
            throw error
        }
        pipeline.observer?.finished(job: job.name)
        failures += fanOut.failures
        duration = (clock.now - begin).inSeconds
        let copies = published.map {
            BackupCopy(destination: $0.name, record: BackupRecord(object: $0.object, manifest: manifest), deleted: [])
        }
        logComplete(copies)
        return copies
    }

    /// An upload at each destination; one that cannot begin is dropped.
    private mutating func beginUploads(_ name: String) async throws -> [(name: String, upload: any Upload)] {
        var uploads: [(name: String, upload: any Upload)] = []
        for target in targets {
            do {
                uploads.append((target.name, try await target.destination.begin(name: name)))
            } catch {
                do {
                    try fail(target.name, error)
                } catch {
                    for upload in uploads { await upload.upload.abort() }
                    throw error
                }
            }
        }
        return uploads
    }

    private func makeManifest(
        _ name: String, info: SourceInfo, started: Date, result: BackupStream.Result
    ) -> Manifest {
        let sidecars = result.details.sidecars
        var manifest = Manifest(
            job: job.name, file: name, database: info.database, serverVersion: info.serverVersion,
            dumpToolVersion: info.dumpToolVersion, format: info.format, stages: job.stageRecords,
            rawBytes: result.rawBytes, storedBytes: result.storedBytes, sha256: result.sha256,
            startedAt: started, finishedAt: pipeline.now(), rowCounts: result.details.rowCounts,
            sidecars: sidecars.isEmpty ? nil : sidecars.map { name + $0.suffix },
            sidecarChecksums: sidecars.isEmpty ? nil : Dictionary(
                sidecars.map { (name + $0.suffix, SidecarChecksum(of: $0.bytes)) },
                uniquingKeysWith: { first, _ in first }))
        manifest.serverRun = job.serverRun
        manifest.writtenBy = pipeline.writer
        return manifest
    }

    private func logComplete(_ copies: [BackupCopy]) {
        let record = copies[0].record
        let manifest = record.manifest
        var metadata: Logger.Metadata = [
            "file": "\(record.object.location)", "raw_bytes": "\(manifest.rawBytes)",
            "stored_bytes": "\(manifest.storedBytes)", "duration_s": "\(String(format: "%.2f", duration))",
            "sha256": "\(manifest.sha256)",
        ]
        if job.destinations.count > 1 {
            let places = copies.map { "\($0.destination)=\($0.record.object.location)" }
            metadata["copies"] = "\(places.joined(separator: " "))"
        }
        logger.info("backup complete", metadata: metadata)
    }

    /// File names have one-second resolution; two backups of a job in one second wait for the next one
    /// rather than overwrite or fail. The name must be free at every destination; one that cannot be
    /// listed is dropped from the run.
    private mutating func uniqueStart(info: SourceInfo) async throws -> Date {
        var existing: Set<String> = []
        for target in targets {
            do {
                existing.formUnion(try await target.destination.list(prefix: job.name + "_").map(\.name))
            } catch {
                try fail(target.name, error)
            }
        }
        // A clock that moves finds a free second within 1 s; one that does not (it was set back, or is
        // stopped) is an error after 10 s of wall time (a starved machine may take that for a few sleeps)
        // and 5 tries, not a wait for ever.
        let clock = ContinuousClock()
        let begin = clock.now
        var tries = 0
        while tries < 5 || clock.now - begin < .seconds(10) {
            tries += 1
            let start = Date(timeIntervalSince1970: pipeline.now().timeIntervalSince1970.rounded(.down))
            let name = JobName.backupFileName(job: job.name, started: start, dumpExtension: info.fileExtension,
                                              stageExtensions: job.stageExtensions)
            if !existing.contains(name) { return start }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BackupError(.destination, "job \(job.name) already has a backup named for every second "
            + "in the last 10 s; check the clock")
    }
}
