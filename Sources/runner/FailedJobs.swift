import Synchronization

/// The failed job names, handed out of the cancellable task.
final class FailedJobs: Sendable {
    private let storage = Mutex<[String]>([])
    func set(_ names: [String]) { storage.withLock { $0 = names } }
    var value: [String] { storage.withLock { $0 } }
}
