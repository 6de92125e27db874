import Foundation

/// A first-in-first-out queue of at most `capacity` elements between two pipeline stages, where either
/// side may be an async task or a dedicated thread.
///
/// The pipeline's CPU-heavy stage (compression) runs on its own thread, so that it never occupies one of
/// the few threads of Swift's cooperative pool, while reading the source and writing the destination stay
/// async. Neither swift-async-algorithms' `AsyncChannel` (async only, one element) nor a Dispatch
/// semaphore (blocks pool threads) bridges the two, so this small type does: async sides suspend on a
/// continuation, thread sides wait on a condition variable; nobody ever blocks a pool thread.
///
/// `fail` ends the channel for both sides at once: pending and later sends and receives throw its error.
/// That is how one failing stage stops the others.
final class BoundedChannel<Element: Sendable>: @unchecked Sendable {
    // @unchecked: every stored property is read and written only while holding `condition`.
    private let condition = NSCondition()
    private let capacity: Int
    /// At most `capacity` (a handful) elements, so `removeFirst` is cheap.
    private var items: [Element] = []
    private var finished = false
    private var failure: (any Error)?
    private var waitingSenders: [CheckedContinuation<Void, Never>] = []
    private var waitingReceivers: [CheckedContinuation<Void, Never>] = []

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    private var count: Int { items.count }

    // MARK: Sending

    /// Appends `element`, suspending while the channel is full.
    func send(_ element: Element) async throws {
        while true {
            if try trySend(element) { return }
            await withCheckedContinuation { continuation in
                condition.lock()
                if count < capacity || failure != nil {
                    condition.unlock()
                    continuation.resume()
                } else {
                    waitingSenders.append(continuation)
                    condition.unlock()
                }
            }
        }
    }

    /// Appends `element`, blocking the calling thread while the channel is full. Never call from a task.
    func sendBlocking(_ element: Element) throws {
        condition.lock()
        while count >= capacity && failure == nil { condition.wait() }
        condition.unlock()
        guard try trySend(element) else { return try sendBlocking(element) }
    }

    private func trySend(_ element: Element) throws -> Bool {
        condition.lock()
        if let failure {
            condition.unlock()
            throw failure
        }
        precondition(!finished, "send after finish")
        guard count < capacity else {
            condition.unlock()
            return false
        }
        items.append(element)
        let wake = waitingReceivers
        waitingReceivers = []
        condition.broadcast()
        condition.unlock()
        wake.forEach { $0.resume() }
        return true
    }

    /// No more elements will be sent; receivers get nil once the queue is drained.
    func finish() {
        condition.lock()
        finished = true
        let wake = waitingReceivers
        waitingReceivers = []
        condition.broadcast()
        condition.unlock()
        wake.forEach { $0.resume() }
    }

    /// Ends the channel with `error` for both sides; the first failure wins.
    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        let wake = waitingReceivers + waitingSenders
        waitingReceivers = []
        waitingSenders = []
        items = []
        condition.broadcast()
        condition.unlock()
        wake.forEach { $0.resume() }
    }

    // MARK: Receiving

    /// The next element, suspending while the channel is empty; nil once it is finished and drained.
    func receive() async throws -> Element? {
        while true {
            if let result = try tryReceive() { return result }
            await withCheckedContinuation { continuation in
                condition.lock()
                if count > 0 || finished || failure != nil {
                    condition.unlock()
                    continuation.resume()
                } else {
                    waitingReceivers.append(continuation)
                    condition.unlock()
                }
            }
        }
    }

    /// The next element, blocking the calling thread while the channel is empty. Never call from a task.
    func receiveBlocking() throws -> Element? {
        condition.lock()
        while count == 0 && !finished && failure == nil { condition.wait() }
        condition.unlock()
        guard let result = try tryReceive() else { return try receiveBlocking() }
        return result
    }

    /// `.some(element)`, `.some(nil)` at the end, or nil when nothing is there yet.
    private func tryReceive() throws -> Element?? {
        condition.lock()
        if let failure {
            condition.unlock()
            throw failure
        }
        guard count > 0 else {
            let ended = finished
            condition.unlock()
            return ended ? .some(nil) : nil
        }
        let element = items.removeFirst()
        let wake = waitingSenders
        waitingSenders = []
        condition.broadcast()
        condition.unlock()
        wake.forEach { $0.resume() }
        return .some(element)
    }
}
