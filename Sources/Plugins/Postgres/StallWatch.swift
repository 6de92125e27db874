import Foundation
import Synchronization

/// Tells a stalled dump from a slow one. The pipe reader says when it starts waiting for pg_dump's output,
/// each time bytes arrive, and when it hands a chunk on; only time spent waiting on pg_dump with nothing
/// arriving counts. A slow compressor or disk downstream holds the reader in its hand-over, which is not
/// a stall of the server.
final class StallWatch: Sendable {
    private let state = Mutex<(since: ContinuousClock.Instant, waiting: Bool)>((ContinuousClock.now, true))

    /// The reader is about to wait for output, or output just arrived.
    func waiting() { state.withLock { $0 = (ContinuousClock.now, true) } }

    /// The reader is handing a chunk downstream; the clock does not run.
    func handing() { state.withLock { $0.waiting = false } }

    /// Returns once the reader has waited `timeout` with nothing arriving; throws when cancelled.
    func untilStalled(_ timeout: Duration) async throws {
        let step = min(max(timeout / 10, .milliseconds(50)), .seconds(1))
        while true {
            try await Task.sleep(for: step)
            let stalled = state.withLock { $0.waiting && ContinuousClock.now - $0.since >= timeout }
            if stalled { return }
        }
    }
}
