import Engine
import Foundation
import Testing

/// The lock contract of `LockingDestination` and `JobLock`, for a destination that has locks: exclusive,
/// waiting, released, taken over from a holder that died (named), and the leftovers of a killed upload
/// found and removed while holding the lock. Run as DestinationConformance is: by each such destination's
/// test target, with its fixture.
package struct DestinationLockConformance: Sendable {
    package let fixture: DestinationFixture

    package init(_ fixture: DestinationFixture) { self.fixture = fixture }

    // Long: a lease that lapses while a loaded machine starves the test is not what these tests check
    // (dieHoldingLock leaves an expired lease where a lapse is wanted).
    static let lease: Duration = .seconds(3600)

    func locking() async throws -> (any LockingDestination, DestinationFixture.Made) {
        let made = try await fixture.make()
        let locking = try #require((made.destination as? any LockingDestination),
                                   "\(fixture) has no locks")
        return (locking, made)
    }

    package func aHeldLockIsExclusiveAndNamesItsHolder() async throws {
        let (destination, made) = try await locking()
        defer { made.cleanUp() }
        #expect(try await destination.lockHolder(job: "app") == nil, "nobody holds a lock never taken")
        let (first, previous) = try await destination.lock(job: "app", wait: false, lease: Self.lease)
        #expect(previous == nil)
        // Read without taking it: this process is named, and reading did not take or free the lock.
        let holder = try await destination.lockHolder(job: "app")
        #expect(holder?.contains("pid \(getpid())") == true, "\(holder ?? "nil")")
        #expect(try await destination.lockHolder(job: "app2") == nil)
        await #expect { _ = try await destination.lock(job: "app", wait: false, lease: Self.lease) } throws: {
            ($0 as? BackupError)?.code == .targetBusy && "\($0)".contains("already running")
        }
        // Another job's lock is another lock.
        let (other, _) = try await destination.lock(job: "app2", wait: false, lease: Self.lease)
        try await first.renew()
        try await first.release()
        try await other.release()
        #expect(try await destination.lockHolder(job: "app") == nil, "a released lock names nobody")
        // Waiting: for an instant after a release a child process that another thread is spawning may
        // still share the lock file's descriptor (until its exec closes it), which keeps a flock held.
        let (again, after) = try await destination.lock(job: "app", wait: true, lease: Self.lease)
        #expect(after == nil, "a released lock is not a dead holder's")
        try await again.release()
    }

    package func aWaitingLockIsTakenWhenReleased() async throws {
        let (destination, made) = try await locking()
        defer { made.cleanUp() }
        let (first, _) = try await destination.lock(job: "app", wait: false, lease: Self.lease)
        // Whether `first` was released when the waiter got the lock: set just before the release, so a
        // waiter that took the lock while `first` held it finds it false, however late it ran.
        let released = Locked(false)
        let waiting = Locked(false)
        let waiter = Task {
            waiting.set(true)
            let result = try await destination.lock(job: "app", wait: true, lease: Self.lease)
            return (result, releasedWhenTaken: released.value)
        }
        try await waitUntil("the waiter to start") { waiting.isSet }
        // The waiter's first tries, while `first` holds the lock (a broken lock would be taken in them);
        // the assertion below does not depend on how many there were.
        try await Task.sleep(for: .milliseconds(300))
        try await first.renew()  // still `first`'s
        released.set(true)
        try await first.release()
        let ((second, previous), releasedWhenTaken) = try await waiter.value
        #expect(releasedWhenTaken, "the waiter took a lock that was held")
        #expect(previous == nil)
        try await second.release()
    }

    package func aDeadHoldersLockIsTakenOverAndNamed() async throws {
        let (destination, made) = try await locking()
        defer { made.cleanUp() }
        try await fixture.dieHoldingLock(made.destination, "app")
        let (lock, previous) = try await destination.lock(job: "app", wait: true, lease: Self.lease)
        #expect(previous != nil, "the dead holder is named")
        try await lock.release()
    }

    /// A run killed mid-upload leaves a partial upload; the next run, holding the lock, removes it, and
    /// only it: another job's in-progress upload, even with a name that extends this job's, stays.
    package func leftoversOfAKilledUploadAreRemovedAndOnlyThose() async throws {
        let (destination, made) = try await locking()
        defer { made.cleanUp() }
        let killed = try await destination.begin(name: "app_20260101T000000Z.sql")
        try await killed.write(Array(repeating: 1, count: 1000))
        let other = try await destination.begin(name: "app_20260101T000000Z_20260102T000000Z.sql")
        try await other.write([2])
        // `killed` is never committed nor aborted, as when its process died.
        let (lock, _) = try await destination.lock(job: "app", wait: false, lease: Self.lease)
        let removed = try await destination.removeLeftovers(job: "app")
        #expect(removed.count == 1 && removed[0].contains("app_20260101T000000Z.sql"), "\(removed)")
        try await lock.release()
        #expect(try await destination.list().isEmpty)
        _ = try await other.commit(sidecars: [])
        #expect(try await destination.list().map(\.name) == ["app_20260101T000000Z_20260102T000000Z.sql"])
        _ = killed
    }
}
