@testable import Engine
import Foundation
import Logging
import Testing

/// A memory destination whose locks are leases, as an object store's would be: a holder id and an
/// expiry the holder must renew. Lapsed leases are taken over.
final class LeasingDestination: LockingDestination, Sendable {
    struct Lease: Sendable {
        var holder: String
        var expires: ContinuousClock.Instant
    }

    struct Record: Sendable {
        var leases: [String: Lease] = [:]
        var renewals = 0
        var releases = 0
        var lockCalls = 0
        /// Taken with lock(); the lease each lock call asked for.
        var leaseAsked: [Duration] = []
    }

    let store = MemoryDestination()
    let record = Recorder(Record())
    /// When set, renewals fail (the lock was lost) or releases fail (the store is down); `renewalsFailing`
    /// renewals fail as a store that does not answer, before they succeed again.
    let loseOnRenew: Bool
    let failRelease: Bool
    let renewalsFailing: Int

    init(loseOnRenew: Bool = false, failRelease: Bool = false, renewalsFailing: Int = 0) {
        self.loseOnRenew = loseOnRenew
        self.failRelease = failRelease
        self.renewalsFailing = renewalsFailing
    }

    final class Held: JobLock, Sendable {
        let destination: LeasingDestination
        let job: String
        let holder: String
        let lease: Duration

        init(_ destination: LeasingDestination, job: String, holder: String, lease: Duration) {
            self.destination = destination
            self.job = job
            self.holder = holder
            self.lease = lease
        }

        func renew() async throws {
            let kept: Bool? = destination.record.update { record in
                record.renewals += 1
                if record.renewals <= destination.renewalsFailing { return nil }
                guard !destination.loseOnRenew, record.leases[job]?.holder == holder else { return false }
                record.leases[job]?.expires = .now + lease
                return true
            }
            guard let kept else { throw BackupError(.destination, "the store did not answer") }
            if !kept { throw BackupError(.targetBusy, "the lock of job \(job) was taken over; this run stops") }
        }

        func release() async throws {
            if destination.failRelease { throw BackupError(.destination, "the store did not answer") }
            destination.record.update { record in
                record.releases += 1
                if record.leases[job]?.holder == holder { record.leases[job] = nil }
            }
        }
    }

    func lock(job: String, wait: Bool, lease: Duration) async throws -> (lock: any JobLock, tookOverFrom: String?) {
        let holder = "run-\(UUID().uuidString.prefix(8))"
        let taken: String?? = record.update { record in
            record.lockCalls += 1
            record.leaseAsked.append(lease)
            if let current = record.leases[job], current.expires > .now { return nil }
            let previous = record.leases[job]?.holder
            record.leases[job] = Lease(holder: holder, expires: .now + lease)
            return .some(previous)
        }
        guard let previous = taken else { throw BackupError(.targetBusy, "job \(job) is already running") }
        return (Held(self, job: job, holder: holder, lease: lease), previous)
    }

    func removeLeftovers(job: String) async throws -> [String] { [] }

    func lockHolder(job: String) async throws -> String? {
        record.value.leases[job].map { $0.expires > .now ? $0.holder : "\($0.holder) (lapsed)" }
    }

    func checkWritable() async throws {}
    func begin(name: String) async throws -> any Upload { try await store.begin(name: name) }
    func list(prefix: String) async throws -> [StoredObject] { try await store.list(prefix: prefix) }
    func read(name: String) async throws -> [UInt8] { try await store.read(name: name) }
    func replace(name: String, bytes: [UInt8]) async throws { try await store.replace(name: name, bytes: bytes) }
    func stream(name: String, chunkSize: Int, into sink: ([UInt8]) async throws -> Void) async throws {
        try await store.stream(name: name, chunkSize: chunkSize, into: sink)
    }
    func delete(name: String) async throws { try await store.delete(name: name) }
}

@Suite("Job locks as leases")
struct LockLeaseTests {
    /// A dump whose last chunk waits until `destination`'s lock was renewed `renewals` times, however slowly a
    /// loaded machine runs the renewals: the run lasts until they happened, not for a fixed time.
    static func jobLastingFor(renewals: Int, of destination: LeasingDestination) -> Job {
        var source = FakeSource(chunks: Array(repeating: [1, 2, 3], count: 3))
        source.beforeChunk = { index in
            guard index == 2 else { return }
            try await waitUntil("\(renewals) renewals") { destination.record.value.renewals >= renewals }
        }
        return makeJob(source: source, destination: destination)
    }

    /// Renewals every 50 ms; leases long enough (an hour by default) that a machine whose busy cores
    /// keep this test's tasks waiting for many seconds cannot make one lapse where the test needs it held.
    static func pipeline(lease: Duration = .seconds(3600)) -> BackupPipeline {
        var pipeline = BackupPipeline(now: { day() })
        pipeline.lockLease = lease
        pipeline.lockRenewal = .milliseconds(50)
        return pipeline
    }

    @Test func theLeaseIsRenewedWhileTheBackupRunsAndReleasedAfter() async throws {
        let destination = LeasingDestination()
        _ = try await Self.pipeline().run(Self.jobLastingFor(renewals: 2, of: destination), logger: testLogger)
        let record = destination.record.value
        #expect(record.leaseAsked == [.seconds(3600)])
        #expect(record.renewals >= 2, "renewed \(record.renewals) times")
        #expect(record.releases == 1 && record.leases.isEmpty)
        #expect(destination.store.names.contains("app_20261125T010000Z.sql.fz"))
    }

    @Test func aLostLockStopsTheBackupAndPublishesNothing() async throws {
        let destination = LeasingDestination(loseOnRenew: true)
        // The dump waits for renewals that cannot all come: only the lost lock ends the run.
        await #expect { try await Self.pipeline().run(Self.jobLastingFor(renewals: .max, of: destination), logger: testLogger) } throws: {
            ($0 as? BackupError)?.code == .targetBusy && "\($0)".contains("taken over")
        }
        #expect(destination.store.names.isEmpty)
        #expect(destination.store.state.value.aborted == ["app_20261125T010000Z.sql.fz"])
    }

    /// One renewal the store did not answer is tried again within the lease; a store silent for the
    /// whole lease stops the run, since its lock may already be another's.
    @Test func aRenewalTheStoreMissesIsRetriedWithinTheLease() async throws {
        let flaky = LeasingDestination(renewalsFailing: 1)
        _ = try await Self.pipeline().run(Self.jobLastingFor(renewals: 3, of: flaky), logger: testLogger)
        #expect(flaky.record.value.renewals >= 3)
        // A 1 s lease and a store that never answers: only the lease can end the run, whose dump waits for
        // a state that never comes (its wait gives up after two minutes, and then the run would fail with
        // that, not with the store's error).
        let silent = LeasingDestination(renewalsFailing: 1_000_000)
        await #expect { try await Self.pipeline(lease: .seconds(1)).run(Self.jobLastingFor(renewals: .max, of: silent), logger: testLogger) } throws: {
            ($0 as? BackupError)?.code == .destination && "\($0)".contains("did not answer")
        }
        #expect(silent.store.names.isEmpty)
    }

    @Test func aLockThatCannotBeReleasedDoesNotFailTheBackup() async throws {
        let destination = LeasingDestination(failRelease: true)
        let outcome = try await Self.pipeline().run(makeJob(source: FakeSource(chunks: [[1]]), destination: destination), logger: testLogger)
        #expect(outcome.record.name == "app_20261125T010000Z.sql.fz")
        // The lease stays until it lapses (in an hour): a second run now is refused, as another holder's
        // would be. (With a lease that could lapse, the second run would wait for a new second on this
        // test's stopped clock, for ever.)
        await #expect { try await Self.pipeline().run(makeJob(source: FakeSource(chunks: [[1]]), destination: destination), logger: testLogger) } throws: {
            ($0 as? BackupError)?.code == .targetBusy
        }
    }

    @Test func aLapsedLeaseIsTakenOverAndNamed() async throws {
        let destination = LeasingDestination()
        let (dead, _) = try await destination.lock(job: "app", wait: false, lease: .milliseconds(1))
        try await Task.sleep(for: .milliseconds(20))
        let (taker, previous) = try await destination.lock(job: "app", wait: false, lease: .seconds(3600))
        #expect(previous == (dead as? LeasingDestination.Held)?.holder && previous != nil)
        // The dead holder's renewal now fails: it lost the lock.
        await #expect(throws: BackupError.self) { try await dead.renew() }
        try await taker.release()
        _ = try await Self.pipeline().run(makeJob(source: FakeSource(chunks: [[1]]), destination: destination), logger: testLogger)
        #expect(destination.record.value.lockCalls == 3 && destination.record.value.releases == 2)
    }
}

@Suite("Backup names")
struct StoppedClockTests {
    /// A clock that does not move cannot name a second backup in its second: an error after 10 s, not a
    /// wait for ever (a test with a stopped clock once hung the whole suite that way).
    @Test func aStoppedClockIsAnErrorNotAHang() async throws {
        let destination = MemoryDestination()
        let job = makeJob(source: FakeSource(chunks: [[1]]), destination: destination)
        _ = try await BackupPipeline(now: { day() }).run(job, logger: testLogger)
        await #expect { try await BackupPipeline(now: { day() }).run(job, logger: testLogger) } throws: {
            "\($0)".contains("already has a backup named for every second")
        }
        #expect(destination.names.count == 2, "the first backup and its manifest, nothing more")
    }
}
