import Synchronization

/// The locks of a piece of work's destinations, renewed together: one lost is the work's lock lost. A
/// destination the work dropped (its store failing) is no longer renewed, so its outage cannot end the
/// work at the others once its lease would lapse; its lock is released with the rest at the end.
final class CombinedLock: JobLock {
    private let locks: [(name: String, lock: any JobLock)]
    private let dropped = Mutex<Set<String>>([])

    init(_ locks: [(name: String, lock: any JobLock)]) { self.locks = locks }

    func drop(_ name: String) {
        dropped.withLock { _ = $0.insert(name) }
    }

    func renew() async throws {
        let skipped = dropped.withLock { $0 }
        for entry in locks where !skipped.contains(entry.name) { try await entry.lock.renew() }
    }

    func release() async throws {
        var first: (any Error)?
        for entry in locks.reversed() {
            do { try await entry.lock.release() } catch { first = first ?? error }
        }
        if let first { throw first }
    }
}
