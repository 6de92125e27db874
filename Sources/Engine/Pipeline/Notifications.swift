import Foundation
import Logging

/// Delivers a job's event to its notifiers, all at once, each within `notify.timeout`.
///
/// A notifier that fails, answers with an error or does not answer in time is logged and otherwise
/// ignored: a notification never fails a backup, and never delays it by more than the timeout.
public enum Notifications {
    public static func deliver(_ event: JobEvent, for job: Job, logger: Logger) async {
        guard !job.notifiers.isEmpty else { return }
        guard job.notifyWhen == .always || event.status != .success else { return }
        let timeout = job.notifyTimeout
        await withTaskGroup(of: Void.self) { group in
            for notifier in job.notifiers {
                group.addTask { await send(event, to: notifier, timeout: timeout, logger: logger) }
            }
        }
    }

    /// Delivers `event` to one notifier within `timeout`, and logs how that went.
    private static func send(_ event: JobEvent, to notifier: any Notifier, timeout: Double, logger: Logger) async {
        do {
            try await withDeadline(seconds: timeout) { try await notifier.notify(event) }
            logger.debug("notification sent", metadata: ["job": "\(event.job)", "notifier": "\(notifier.name)"])
        } catch is DeadlineExceeded {
            let limit = Self.format(timeout)
            logger.warning("notification not sent: \(notifier.name) did not answer within \(limit) (notify.timeout)",
                           metadata: ["job": "\(event.job)"])
        } catch {
            logger.warning("notification not sent: \(notifier.name): \(error)", metadata: ["job": "\(event.job)"])
        }
    }

    private struct DeadlineExceeded: Error {}

    /// Runs `body`, cancelling it and throwing ``DeadlineExceeded`` after `seconds`.
    private static func withDeadline(
        seconds: Double, _ body: @escaping @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return false
            }
            defer { group.cancelAll() }
            guard try await group.next() == true else { throw DeadlineExceeded() }
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
    }
}
