import Synchronization

/// The `parallel` slots jobs take turns in.
final class Slots: Sendable {
    private let free: Mutex<Int>

    init(_ count: Int) { free = Mutex(max(1, count)) }

    /// Waits for a free slot and takes it; false when cancelled first.
    func acquire() async -> Bool {
        while !Task.isCancelled {
            let taken = free.withLock { count -> Bool in
                guard count > 0 else { return false }
                count -= 1
                return true
            }
            if taken { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func release() { free.withLock { $0 += 1 } }
}
