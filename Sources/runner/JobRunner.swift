import ArgumentParser
import Engine
import Foundation
import Logging
import Synchronization

/// Runs jobs one after another, logging each failure with its job and telling the job's notifiers;
/// returns the names of failed jobs.
struct JobRunner {
    var logger: Logger
    var showProgress: Bool
    var waitForLock = false
    /// Hears every finished run, before notifiers do (the daemon's metrics).
    var onEvent: (@Sendable (JobEvent) -> Void)?

    func runAll(_ jobs: [Job]) async -> [String] {
        var failed: [String] = []
        for job in jobs {
            if await !runOne(job) { failed.append(job.name) }
        }
        return failed
    }

    func runOne(_ job: Job) async -> Bool {
        let progress = showProgress ? TerminalProgress() : nil
        var pipeline = BackupPipeline(observer: progress)
        pipeline.waitForLock = waitForLock
        pipeline.lockLease = job.lockLease
        if job.verifyAfterBackup {
            let logger = logger
            pipeline.beforeRetention = { record, job in try await Self.verify(record, of: job, logger: logger) }
        }
        let clock = ContinuousClock()
        let begin = clock.now
        let event: JobEvent
        do {
            let outcome = try await pipeline.run(job, logger: logger)
            event = Self.event(job, outcome, status: .success, error: nil, failures: [], duration: outcome.duration)
        } catch let partial as PartialBackup {
            logger.error("backup failed: \(partial)", metadata: ["job": "\(job.name)"])
            event = Self.event(job, partial.outcome, status: .partial, error: "\(partial)", failures: partial.failures,
                               duration: (clock.now - begin).inSeconds)
        } catch {
            if Task.isCancelled || error is CancellationError {
                // SIGTERM or SIGINT: an interruption, not a failure of the backup (whose partial file is gone).
                logger.notice("backup interrupted by a signal; its partial file was removed", metadata: ["job": "\(job.name)"])
            } else {
                logger.error("backup failed: \(error)", metadata: ["job": "\(job.name)"])
            }
            let verification = (error as? BackupError)?.code == .verificationFailed ? "failed: \(error)" : nil
            event = JobEvent(job: job.name, database: job.source.databaseName, status: .failure, bytes: 0, rawBytes: 0,
                             durationSeconds: (clock.now - begin).inSeconds,
                             file: nil, error: "\(error)", verification: verification, finishedAt: Date())
        }
        onEvent?(event)
        // A run stopped by a signal is not news, and the process is shutting down.
        if !Task.isCancelled { await Notifications.deliver(event, for: job, logger: logger) }
        return event.status == .success
    }

    /// The event of a run that stored its backup at one destination or more.
    static func event(_ job: Job, _ outcome: BackupOutcome, status: JobEvent.Status, error: String?,
                      failures: [DestinationFailure], duration: Double) -> JobEvent {
        let manifest = outcome.record.manifest
        var event = JobEvent(job: job.name, database: manifest.database, status: status, bytes: manifest.storedBytes,
                             rawBytes: manifest.rawBytes, durationSeconds: duration,
                             file: outcome.record.object.location, error: error,
                             verification: job.verifyAfterBackup ? "passed" : nil, finishedAt: Date())
        event.destinations = job.destinations.map { target in
            let copy = outcome.copies.first { $0.destination == target.name }
            let failure = failures.first { $0.destination == target.name }
            return JobEvent.DestinationResult(name: target.name, status: failure == nil && copy != nil ? .success : .failure,
                                              file: copy?.record.object.location, error: failure.map { "\($0.error)" })
        }
        return event
    }

    /// `verify = after-backup`: a backup that does not restore fails its run; it is kept, marked unverified,
    /// and retention does not run, so an unverifiable backup never displaces a verified one.
    @Sendable static func verify(_ record: BackupRecord, of job: Job, logger: Logger) async throws {
        let pipeline = RestorePipeline(registry: ProcessSettings.registry)
        var problem: String?
        do {
            let outcome = try await pipeline.verify(record, job: job, logger: logger)
            problem = outcome.problem
            if problem == nil {
                logger.info("backup verified: \(outcome.checks.count) tables restored with the recorded row counts",
                            metadata: ["job": "\(job.name)", "file": "\(record.name)"])
            }
        } catch {
            problem = "\(error)"
        }
        // Every copy's manifest says the same (`job` has the destinations that stored the backup).
        for target in job.destinations {
            try await pipeline.mark(record, verification: problem.map { "failed: \($0)" } ?? "passed", in: target.destination)
        }
        if let problem {
            throw BackupError(.verificationFailed, "backup verification failed (the backup is kept, marked unverified): \(problem)")
        }
    }
}
