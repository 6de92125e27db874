import Synchronization

/// Whether a backup was running when the daemon was cancelled.
final class Busy: Sendable {
    private let state = Mutex<(running: Int, interrupted: Bool)>((0, false))

    func begin() { state.withLock { $0.running += 1 } }

    func end(cancelled: Bool) {
        state.withLock {
            $0.running -= 1
            if cancelled { $0.interrupted = true }
        }
    }

    var interrupted: Bool { state.withLock { $0.interrupted } }
}
