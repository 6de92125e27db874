@testable import Engine
import Foundation
import Testing

/// A job with the destinations `a` and `b` (memory doubles), each with its own retention.
private func twoDestinationJob(
    source: FakeSource = FakeSource(chunks: [[1, 2, 3], Array(0...255), [9]]),
    a: MemoryDestination = MemoryDestination(), b: MemoryDestination = MemoryDestination(),
    keepA: Int = 100, keepB: Int = 100
) -> Job {
    var job = makeJob(source: source, destination: a)
    job.destinations = [
        JobDestination(name: "a", destination: a, retention: KeepLastRetention(last: keepA)),
        JobDestination(name: "b", destination: b, retention: KeepLastRetention(last: keepB)),
    ]
    return job
}

private let newName = "app_20261125T010000Z.sql.fz"

@Suite("Several destinations per job")
struct FanOutTests {
    @Test("one dump, read once, is stored byte for byte at every destination with the same manifest")
    func sameBytesEverywhere() async throws {
        let a = MemoryDestination(), b = MemoryDestination()
        let source = FakeSource(chunks: [[1, 2, 3], Array(repeating: 7, count: 300_000), [9]])
        let outcome = try await BackupPipeline(now: { day() }).run(twoDestinationJob(source: source, a: a, b: b), logger: testLogger)
        #expect(source.calls.value == ["prepare", "dump"])
        #expect(a.names == [newName, newName + Manifest.suffix])
        #expect(a.objects == b.objects, "data and manifest alike")
        #expect(a.objects[newName] == XorTransform.expected([1, 2, 3] + Array(repeating: 7, count: 300_000) + [9]))
        #expect(outcome.copies.map(\.destination) == ["a", "b"])
        #expect(outcome.copies.map(\.record.object.location) == ["mem://\(newName)", "mem://\(newName)"])
    }

    @Test("a destination failing mid-stream is dropped, named and aborted; the other copy is published")
    func oneFailsMidStream() async throws {
        let a = MemoryDestination(failingWrite: 1), b = MemoryDestination()
        let chunk = [UInt8](repeating: 1, count: BackupStream.chunkSize)
        let job = twoDestinationJob(source: FakeSource(chunks: [chunk, chunk, chunk]), a: a, b: b)
        let partial = try await #require(throws: PartialBackup.self) {
            try await BackupPipeline(now: { day() }).run(job, logger: testLogger)
        }
        #expect(partial.failures.map(\.destination) == ["a"])
        #expect(partial.description.contains("stored at b") && partial.description.contains("a: no space left"), "\(partial)")
        #expect(partial.outcome.copies.map(\.destination) == ["b"])
        #expect(a.names.isEmpty && a.state.value.aborted == [newName])
        #expect(b.names == [newName, newName + Manifest.suffix])
        #expect(b.objects[newName] == XorTransform.expected(chunk + chunk + chunk), "b got every byte")
    }

    @Test("a destination that cannot be written at start is named; the dump still goes to the other")
    func oneUnwritable() async throws {
        let a = MemoryDestination(), b = MemoryDestination(checkError: BackupError(.destination, "bucket gone"))
        let partial = try await #require(throws: PartialBackup.self) {
            try await BackupPipeline(now: { day() }).run(twoDestinationJob(a: a, b: b), logger: testLogger)
        }
        #expect(partial.failures.map(\.destination) == ["b"])
        #expect(a.names == [newName, newName + Manifest.suffix])
        #expect(b.state.value.begun.isEmpty)
    }

    @Test("when every destination fails, the error names each and why")
    func allFail() async throws {
        let a = MemoryDestination(checkError: BackupError(.destination, "volume missing"))
        let b = MemoryDestination(failingWrite: 0)
        let error = try await #require(throws: BackupError.self) {
            try await BackupPipeline(now: { day() }).run(twoDestinationJob(a: a, b: b), logger: testLogger)
        }
        #expect(error.message.contains("a: volume missing") && error.message.contains("b: no space left"), "\(error)")
        #expect(a.names.isEmpty && b.names.isEmpty)
    }

    @Test("each destination applies its own retention, only where the new backup was published")
    func retentionPerDestination() async throws {
        let a = MemoryDestination(), b = MemoryDestination()
        var seeded: [String] = []
        for hour in 1...4 {
            seeded.append(a.seedBackup(job: "app", started: day(Double(-3_600 * hour))))
            b.seedBackup(job: "app", started: day(Double(-3_600 * hour)))
        }
        // seeded: newest first (1 h, 2 h, 3 h, 4 h before the new one).
        let outcome = try await BackupPipeline(now: { day() }).run(twoDestinationJob(a: a, b: b, keepA: 1, keepB: 3), logger: testLogger)
        #expect(Set(outcome.copies[0].deleted) == Set(seeded))
        #expect(Set(outcome.copies[1].deleted) == Set(seeded[2...]))
        #expect(a.names == [newName, newName + Manifest.suffix])
        #expect(b.names == Set([newName, seeded[0], seeded[1]].flatMap { [$0, $0 + Manifest.suffix] }))

        // Another run where b fails: only a's retention runs; b keeps what it had.
        let c = MemoryDestination(failingWrite: 0)
        for name in b.names { c.put(name, b.objects[name]!) }
        let job = twoDestinationJob(a: a, b: c, keepA: 1, keepB: 1)
        let partial = try await #require(throws: PartialBackup.self) {
            try await BackupPipeline(now: { day(60) }).run(job, logger: testLogger)
        }
        #expect(partial.outcome.copies.map(\.deleted) == [[newName]])
        #expect(c.names == b.names && c.state.value.deleted.isEmpty)
    }

    @Test("the locks of every destination are held during the run and released after")
    func locksEveryDestination() async throws {
        let a = LeaseDestination(), b = LeaseDestination()
        var job = makeJob(source: FakeSource(chunks: [[1]]), destination: a)
        job.destinations = [
            JobDestination(name: "a", destination: a, retention: KeepLastRetention(last: 9)),
            JobDestination(name: "b", destination: b, retention: KeepLastRetention(last: 9)),
        ]
        _ = try await BackupPipeline(now: { day() }).run(job, logger: testLogger)
        #expect(a.events.value == ["lock", "leftovers", "release"] && b.events.value == ["lock", "leftovers", "release"])

        // Another run holding b's lock stops this run everywhere, and a's lock is given back.
        b.holder.update { $0 = "pod-2" }
        let error = try await #require(throws: BackupError.self) {
            try await BackupPipeline(now: { day(5) }).run(job, logger: testLogger)
        }
        #expect(error.code == .targetBusy)
        #expect(a.events.value.suffix(2) == ["lock", "release"])
        #expect(a.memory.names.count == 2, "no second backup at a")
    }

    @Test("a destination dropped mid-stream is no longer renewed, so its store being down cannot end the run at the others")
    func droppedLockIsNotRenewed() async throws {
        let a = LeaseDestination()
        let b = LeaseDestination(failingWrite: 0, renewError: BackupError(.destination, "store down"))
        // Whole pipeline chunks, so the first one reaches the uploads (and fails b) at once. The locks are
        // renewed together every 20 ms, a's then b's, so while b is renewed its count keeps up with a's. The
        // dump goes on once a was renewed 10 times more than b (b dropped), or after 300 renewals of a (b
        // renewed all along, which the test then fails). The lease is long enough never to lapse on a
        // starved machine.
        var source = FakeSource(chunks: Array(repeating: [UInt8](repeating: 3, count: BackupStream.chunkSize), count: 3))
        source.beforeChunk = { index in
            guard index == 1 else { return }
            try await waitUntil("b to be left out of the renewals") {
                a.renewals.value - b.renewals.value >= 10 || a.renewals.value >= 300
            }
        }
        var job = makeJob(source: source, destination: a)
        job.destinations = [
            JobDestination(name: "a", destination: a, retention: KeepLastRetention(last: 9)),
            JobDestination(name: "b", destination: b, retention: KeepLastRetention(last: 9)),
        ]
        var pipeline = BackupPipeline(now: { day() })
        pipeline.lockLease = .seconds(60)
        pipeline.lockRenewal = .milliseconds(20)
        let partial = try await #require(throws: PartialBackup.self) { try await pipeline.run(job, logger: testLogger) }
        #expect(partial.failures.map(\.destination) == ["b"])
        #expect(a.memory.names == [newName, newName + Manifest.suffix])
        #expect(a.renewals.value - b.renewals.value >= 10,
                "b was renewed after it failed: a \(a.renewals.value) renewals, b \(b.renewals.value) (\(b.failedRenewals.value) failed)")
        #expect(b.events.value == ["lock", "leftovers", "release"], "b's lock is still given back")
    }
}

/// A memory destination with a lock that records what happens to it.
private final class LeaseDestination: LockingDestination {
    let memory: MemoryDestination
    let events = Recorder<[String]>([])
    let holder = Recorder<String?>(nil)
    let renewals = Recorder(0)
    /// Renewals after a write failed here, each throwing `renewError`.
    let failedRenewals = Recorder(0)
    /// What renewing the lock throws once a write failed here: the store went down.
    let renewError: BackupError?

    init(failingWrite: Int? = nil, renewError: BackupError? = nil) {
        memory = MemoryDestination(failingWrite: failingWrite)
        self.renewError = renewError
    }

    final class Lock: JobLock {
        let owner: LeaseDestination
        init(_ owner: LeaseDestination) { self.owner = owner }
        func renew() async throws {
            owner.renewals.update { $0 += 1 }
            if let error = owner.renewError, owner.memory.state.value.writes > 0 {
                owner.failedRenewals.update { $0 += 1 }
                throw error
            }
        }
        func release() async throws { owner.events.update { $0.append("release") } }
    }

    func lock(job: String, wait: Bool, lease: Duration) async throws -> (lock: any JobLock, tookOverFrom: String?) {
        if let holder = holder.value { throw BackupError(.targetBusy, "job \(job) is running in \(holder)") }
        events.update { $0.append("lock") }
        return (Lock(self), nil)
    }

    func removeLeftovers(job: String) async throws -> [String] {
        events.update { $0.append("leftovers") }
        return []
    }

    func lockHolder(job: String) async throws -> String? { holder.value }

    func checkWritable() async throws {}
    func begin(name: String) async throws -> any Upload { try await memory.begin(name: name) }
    func list(prefix: String) async throws -> [StoredObject] { try await memory.list(prefix: prefix) }
    func read(name: String) async throws -> [UInt8] { try await memory.read(name: name) }
    func replace(name: String, bytes: [UInt8]) async throws { try await memory.replace(name: name, bytes: bytes) }
    func stream(name: String, chunkSize: Int, into sink: ([UInt8]) async throws -> Void) async throws {
        try await memory.stream(name: name, chunkSize: chunkSize, into: sink)
    }
    func delete(name: String) async throws { try await memory.delete(name: name) }
}
