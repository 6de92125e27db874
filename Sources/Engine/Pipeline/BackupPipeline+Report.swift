import Foundation
import Logging

extension BackupPipeline {
    /// Runs one backup of `job` (``run(_:logger:)``) and reports it: logs a failure with the job's name,
    /// tells `onEvent` (the daemon's metrics), then the job's notifiers, and returns what it told them.
    /// Never throws: a failed run is an event with status `failure` or `partial`. A run stopped by a signal
    /// is logged as an interruption and notifies nobody, as the process is shutting down. A whole-server
    /// job's run (``runServer(_:server:logger:)``) is one event for all its databases.
    public func runAndReport(_ job: Job, logger: Logger,
                             onEvent: (@Sendable (JobEvent) -> Void)? = nil) async -> JobEvent {
        let event = if let server = job.source as? any ServerSource {
            await runServer(job, server: server, logger: logger)
        } else {
            await runOne(job, logger: logger)
        }
        onEvent?(event)
        if !Task.isCancelled {
            await Notifications.deliver(event, for: job, logger: logger)
            // After the notifiers: a store that is down (perhaps why the run failed) delays no one.
            await RunRecord.update(event, for: job, logger: logger)
        }
        return event
    }

    /// One backup of a job of one database, as the event that reports it.
    private func runOne(_ job: Job, logger: Logger) async -> JobEvent {
        let clock = ContinuousClock()
        let begin = clock.now
        do {
            let outcome = try await run(job, logger: logger)
            return JobEvent(job, outcome, failures: [], duration: outcome.duration)
        } catch let partial as PartialBackup {
            logger.error("backup failed: \(partial)", metadata: ["job": "\(job.name)"])
            return JobEvent(job, partial.outcome, failures: partial.failures, error: "\(partial)",
                            duration: (clock.now - begin).inSeconds)
        } catch {
            return Self.failed(job, error, duration: (clock.now - begin).inSeconds, logger: logger)
        }
    }

    /// The event of a run that stored nothing, logged: a signal as an interruption, else as a failure.
    static func failed(_ job: Job, _ error: any Error, duration: Double, logger: Logger) -> JobEvent {
        if Task.isCancelled || error is CancellationError {
            // SIGTERM or SIGINT: an interruption, not a failure of the backup (whose partial file is gone).
            logger.notice("backup interrupted by a signal; its partial file was removed",
                          metadata: ["job": "\(job.name)"])
        } else {
            logger.error("backup failed: \(error)", metadata: ["job": "\(job.name)"])
        }
        return JobEvent(job, failedWith: error, duration: duration)
    }
}
