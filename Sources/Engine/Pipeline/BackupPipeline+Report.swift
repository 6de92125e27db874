import Foundation
import Logging

extension BackupPipeline {
    /// Runs one backup of `job` (``run(_:logger:)``) and reports it: logs a failure with the job's name,
    /// tells `onEvent` (the daemon's metrics), then the job's notifiers, and returns what it told them.
    /// Never throws: a failed run is an event with status `failure` or `partial`. A run stopped by a signal
    /// is logged as an interruption and notifies nobody, as the process is shutting down.
    public func runAndReport(_ job: Job, logger: Logger,
                             onEvent: (@Sendable (JobEvent) -> Void)? = nil) async -> JobEvent {
        if let server = job.source as? any ServerSource {
            return await runServerAndReport(job, server: server, logger: logger, onEvent: onEvent)
        }
        let clock = ContinuousClock()
        let begin = clock.now
        let event: JobEvent
        do {
            let outcome = try await run(job, logger: logger)
            event = JobEvent(job, outcome, failures: [], duration: outcome.duration)
        } catch let partial as PartialBackup {
            logger.error("backup failed: \(partial)", metadata: ["job": "\(job.name)"])
            event = JobEvent(job, partial.outcome, failures: partial.failures, error: "\(partial)",
                             duration: (clock.now - begin).inSeconds)
        } catch {
            if Task.isCancelled || error is CancellationError {
                // SIGTERM or SIGINT: an interruption, not a failure of the backup (whose partial file is gone).
                logger.notice("backup interrupted by a signal; its partial file was removed",
                              metadata: ["job": "\(job.name)"])
            } else {
                logger.error("backup failed: \(error)", metadata: ["job": "\(job.name)"])
            }
            event = JobEvent(job, failedWith: error, duration: (clock.now - begin).inSeconds)
        }
        onEvent?(event)
        if !Task.isCancelled { await Notifications.deliver(event, for: job, logger: logger) }
        return event
    }
}
