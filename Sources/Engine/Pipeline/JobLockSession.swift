import Foundation
import Logging
import Synchronization

/// The job's lock at a set of its destinations, held for one piece of work: a backup, a copy, a prune.
///
/// Locks are taken in the order of the destinations' names, the same in every configuration that lists
/// them, so two processes never each hold a lock the other waits for. While the work runs they are renewed
/// together (where locks are leases); afterwards they are released in reverse, whatever the outcome, a
/// task stopped by a signal included.
public struct JobLockSession: Sendable {
    /// When another process holds a lock: wait for it (true) or fail at once with `.targetBusy` (false).
    public var wait: Bool
    /// How long a lock lasts unless renewed, where the destination's locks are leases.
    public var lease: Duration
    /// How often the locks are renewed; nil: every third of the lease.
    public var renewal: Duration?

    public init(wait: Bool = false, lease: Duration = .seconds(300), renewal: Duration? = nil) {
        self.wait = wait
        self.lease = lease
        self.renewal = renewal
    }

    /// One destination's lock, held.
    public struct Held: Sendable {
        /// The destination's name in the job.
        public var target: String
        public var destination: any Destination
        public var locking: any LockingDestination
        public var lock: any JobLock
        /// The holder this lock was taken over from: it ended without releasing it.
        public var previous: String?
    }

    /// The locks one piece of work holds.
    public struct Holding: Sendable {
        public var held: [Held]
        /// Destinations whose lock could not be taken for another reason than another holder (the store
        /// failing), when the caller tolerates that: the work goes on without them, or decides not to.
        public var unavailable: [DestinationFailure]
        let combined: CombinedLock?

        /// Stops renewing `target`'s lock (a destination the work gave up on, whose outage must not end
        /// the work at the others); it is released with the rest at the end.
        public func drop(_ target: String) { combined?.drop(target) }
    }

    /// Runs `body` holding the job's lock at each of `targets` that has locks. Another holder fails it with
    /// `.targetBusy` (unless `wait`); any other failure to take a lock fails it too, unless
    /// `tolerateUnavailable`, when the destination is named in `Holding.unavailable` instead.
    public func with<T: Sendable>(
        job: String, at targets: [(name: String, destination: any Destination)], tolerateUnavailable: Bool = false,
        logger: Logger, _ body: @escaping @Sendable (Holding) async throws -> T
    ) async throws -> T {
        var held: [Held] = []
        var unavailable: [DestinationFailure] = []
        for target in targets.sorted(by: { $0.name < $1.name }) {
            guard let locking = target.destination as? any LockingDestination else { continue }
            do {
                let (lock, previous) = try await locking.lock(job: job, wait: wait, lease: lease)
                held.append(Held(target: target.name, destination: target.destination, locking: locking,
                                 lock: lock, previous: previous))
            } catch {
                let busy = (error as? BackupError)?.code == .targetBusy
                guard tolerateUnavailable, !busy, !(error is CancellationError), !Task.isCancelled else {
                    await Self.release(held.reversed().map(\.lock), lease: lease, logger: logger)
                    throw error
                }
                unavailable.append(DestinationFailure(destination: target.name, error: error))
            }
        }
        guard !held.isEmpty else { return try await body(Holding(held: [], unavailable: unavailable, combined: nil)) }
        let combined = CombinedLock(held.map { ($0.target, $0.lock) })
        let holding = Holding(held: held, unavailable: unavailable, combined: combined)
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await Self.renewing(combined, lease: lease, every: renewal ?? lease / 3) {
                try await body(holding)
            })
        } catch {
            outcome = .failure(error)
        }
        await Self.release(held.reversed().map(\.lock), lease: lease, logger: logger)
        return try outcome.get()
    }

    /// Gives the locks back, each in a task of its own, so work stopped by a signal (this task cancelled)
    /// still releases them rather than leaving the next run to wait for the lease to lapse.
    static func release(_ locks: [any JobLock], lease: Duration, logger: Logger) async {
        for lock in locks {
            do {
                try await Task { try await lock.release() }.value
            } catch {
                // Not a failure of the work: the lock lapses when its lease runs out, and is taken over then.
                logger.warning("could not release the job's lock (\(error)); it lapses after \(lease)")
            }
        }
    }

    /// Runs `body` while renewing `lock` (taken for `lease`) every `interval`. A lock found lost
    /// (`.targetBusy`) stops `body` at once and is the error; other failures (a store that did not answer)
    /// are retried until the lease would lapse before the next try, and only then stop `body`.
    static func renewing<T: Sendable>(_ lock: any JobLock, lease: Duration, every interval: Duration,
                                      _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                let clock = ContinuousClock()
                var renewed = clock.now
                while true {
                    try await Task.sleep(for: interval)
                    do {
                        try await lock.renew()
                        renewed = clock.now
                    } catch let error as BackupError where error.code == .targetBusy {
                        throw error
                    } catch {
                        // Another try only if it still comes before the lease lapses.
                        if clock.now - renewed + interval >= lease { throw error }
                    }
                }
            }
            defer { group.cancelAll() }
            // The renewer never returns a value; the first result is the body's, or the first error.
            guard let result = try await group.next() ?? nil else { throw CancellationError() }
            return result
        }
    }
}
