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
        var pipeline = BackupPipeline(observer: progress, registry: ProcessSettings.registry)
        pipeline.waitForLock = waitForLock
        pipeline.lockLease = job.lockLease
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
                logger.notice("backup interrupted by a signal; its partial file was removed",
                              metadata: ["job": "\(job.name)"])
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
            let stored = failure == nil && copy != nil
            return JobEvent.DestinationResult(name: target.name, status: stored ? .success : .failure,
                                              file: copy?.record.object.location, error: failure.map { "\($0.error)" })
        }
        return event
    }
}
