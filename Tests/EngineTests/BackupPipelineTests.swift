import Crypto
@testable import Engine
import Foundation
import Testing

private func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

private func pipeline(_ clock: FakeClock) -> BackupPipeline {
    BackupPipeline(now: { clock.now() })
}

private func storedManifest(_ name: String, in destination: MemoryDestination) throws -> Manifest {
    try Manifest.decode(try #require(destination.objects[name + Manifest.suffix]))
}

@Suite("BackupPipeline.run")
struct BackupPipelineTests {
    static let chunkSets: [[[UInt8]]] = [
        [],
        [[42]],
        [[1, 2, 3], [], Array(0...255), Array(repeating: 7, count: 100_000), [9, 8]],
    ]

    @Test("the upload receives exactly the compressed bytes and the manifest describes them",
          arguments: chunkSets)
    func streamsAndDescribes(chunks: [[UInt8]]) async throws {
        let destination = MemoryDestination()
        let source = FakeSource(chunks: chunks)
        let job = makeJob(source: source, destination: destination)
        let outcome = try await pipeline(FakeClock(day(0.7), day(42))).run(job, logger: testLogger)

        let name = "app_20261125T010000Z.sql.fz"
        let raw = chunks.flatMap { $0 }
        let expected = XorTransform.expected(raw)
        #expect(outcome.record.name == name)
        #expect(destination.objects[name] == expected)
        #expect(destination.names == [name, name + Manifest.suffix])
        #expect(outcome.record.object == StoredObject(name: name, location: "mem://\(name)",
                                                       bytes: Int64(expected.count)))

        let manifest = try storedManifest(name, in: destination)
        #expect(manifest == outcome.record.manifest)
        #expect(manifest.job == "app")
        #expect(manifest.file == name)
        #expect(manifest.rawBytes == Int64(raw.count))
        #expect(manifest.storedBytes == Int64(expected.count))
        #expect(manifest.sha256 == hex(SHA256.hash(data: expected)))
        #expect(manifest.database == "app")
        #expect(manifest.serverVersion == "15.8")
        #expect(manifest.dumpToolVersion == "15.8")
        #expect(manifest.format == "plain")
        #expect(manifest.stages == [StageRecord(kind: "compressor", name: "fz", level: 3)])
        #expect(manifest.startedAt == day())
        #expect(manifest.finishedAt == day(42))

        #expect(source.calls.value == ["prepare", "dump"])
        #expect(destination.state.value.begun == [name])
        #expect(destination.state.value.aborted.isEmpty)
        #expect(outcome.deleted.isEmpty)
    }

    @Test("the file name is <job>_<UTC compact timestamp>.<ext>[.<compressed ext>]", arguments: [
        ("sql", true, "nightly_20261125T013005Z.sql.fz"),
        ("dump", true, "nightly_20261125T013005Z.dump.fz"),
        ("sql", false, "nightly_20261125T013005Z.sql"),
        ("dump", false, "nightly_20261125T013005Z.dump"),
    ])
    func fileName(dumpExtension: String, compressed: Bool, expected: String) async throws {
        var source = FakeSource(chunks: [[1, 2, 3]])
        source.info.fileExtension = dumpExtension
        let destination = MemoryDestination()
        let compressor: any Compressor = compressed ? XorCompressor(name: "fz", level: 3) : RawCompressor()
        let job = makeJob(name: "nightly", source: source, compressor: compressor, destination: destination)
        let outcome = try await pipeline(FakeClock(day(1_805.999))).run(job, logger: testLogger)
        #expect(outcome.record.name == expected)
        #expect(destination.names == [expected, expected + Manifest.suffix])
        if !compressed {
            #expect(destination.objects[expected] == [1, 2, 3])
            let manifest = try storedManifest(expected, in: destination)
            #expect(manifest.stages == [StageRecord(kind: "compressor", name: "raw")])
            #expect(manifest.sha256 == hex(SHA256.hash(data: [1, 2, 3] as [UInt8])))
        }
    }

    @Test("a second backup in the same second waits for the next second instead of replacing the first")
    func sameSecond() async throws {
        let destination = MemoryDestination()
        let first = destination.seedBackup(job: "app", started: day())
        let original = destination.objects[first]
        let job = makeJob(source: FakeSource(chunks: [[1]]), destination: destination)
        let clock = FakeClock(day(0.2), day(0.9), day(1.1), day(9))
        let outcome = try await pipeline(clock).run(job, logger: testLogger)
        #expect(first == "app_20261125T010000Z.sql.fz")
        #expect(outcome.record.name == "app_20261125T010001Z.sql.fz")
        #expect(outcome.record.manifest.startedAt == day(1))
        #expect(destination.objects[first] == original)
    }

    @Test("a source that fails mid-stream aborts the upload, commits nothing, keeps earlier backups, skips retention",
          arguments: [0, 1, 3])
    func sourceFailsMidStream(failAfter: Int) async throws {
        let destination = MemoryDestination()
        destination.seedBackup(job: "app", started: day(-7_200))
        destination.seedBackup(job: "app", started: day(-3_600))
        let before = destination.objects
        // Whole pipeline chunks, so each one the source delivers can become a write of its own.
        let chunk = [UInt8](repeating: 1, count: BackupStream.chunkSize)
        var source = FakeSource(chunks: [chunk, chunk, chunk])
        source.failAfter = failAfter
        let job = makeJob(source: source, destination: destination, retention: DeleteEverythingRetention())

        let error = try await #require(throws: BackupError.self) {
            try await pipeline(FakeClock(day())).run(job, logger: testLogger)
        }
        #expect(error.code == .sourceFailed)
        #expect(destination.objects == before)
        #expect(destination.state.value.aborted == ["app_20261125T010000Z.sql.fz"])
        #expect(destination.state.value.deleted.isEmpty)
        // Stages overlap, so a failure may overtake chunks still in flight; nothing beyond them is written.
        #expect(destination.state.value.writes <= failAfter)
    }

    @Test("an unwritable destination fails before the source is prepared")
    func unwritableDestination() async throws {
        let destination = MemoryDestination(checkError: BackupError(.destination, "/backups is not writable"))
        let source = FakeSource(chunks: [[1]])
        let job = makeJob(source: source, destination: destination)
        let error = try await #require(throws: BackupError.self) {
            try await pipeline(FakeClock(day())).run(job, logger: testLogger)
        }
        #expect(error.code == .destination)
        #expect(source.calls.value.isEmpty)
        #expect(destination.state.value.begun.isEmpty)
    }

    @Test("a source that cannot prepare starts no upload")
    func prepareFails() async throws {
        let destination = MemoryDestination()
        var source = FakeSource(chunks: [[1]])
        source.prepareError = BackupError(.authentication, "password authentication failed for user backup")
        let job = makeJob(source: source, destination: destination)
        let error = try await #require(throws: BackupError.self) {
            try await pipeline(FakeClock(day())).run(job, logger: testLogger)
        }
        #expect(error.code == .authentication)
        #expect(source.calls.value == ["prepare"])
        #expect(destination.state.value.begun.isEmpty)
        #expect(destination.objects.isEmpty)
    }

    @Test("a destination write that fails aborts the upload and keeps earlier backups", arguments: [0, 1, 2])
    func writeFails(failingWrite: Int) async throws {
        let destination = MemoryDestination(failingWrite: failingWrite)
        destination.seedBackup(job: "app", started: day(-3_600))
        let before = destination.objects
        // Two whole pipeline chunks and the encoder's trailer: three writes, any of which may fail.
        let chunk = [UInt8](repeating: 2, count: BackupStream.chunkSize)
        let job = makeJob(source: FakeSource(chunks: [chunk, chunk]), destination: destination,
                          retention: DeleteEverythingRetention())
        let error = try await #require(throws: BackupError.self) {
            try await pipeline(FakeClock(day())).run(job, logger: testLogger)
        }
        #expect(error.code == .destinationFull)
        #expect(destination.objects == before)
        #expect(destination.state.value.aborted.count == 1)
        #expect(destination.state.value.deleted.isEmpty)
    }

    @Test("cancellation during the dump aborts the upload")
    func cancelled() async throws {
        let destination = MemoryDestination()
        var source = FakeSource(chunks: [[1], [2], [3]])
        source.cancelAfter = 1
        let job = makeJob(source: source, destination: destination)
        // Its own task, so the cancellation does not reach the test's task.
        let run = Task { try await pipeline(FakeClock(day())).run(job, logger: testLogger) }
        await #expect(throws: CancellationError.self) { try await run.value }
        #expect(source.calls.value == ["prepare", "dump"])
        #expect(destination.state.value.writes <= 1)
        #expect(destination.objects.isEmpty)
        #expect(destination.state.value.aborted.count == 1)
    }

    @Test("retention runs after a successful backup and never deletes the new one", arguments: [1, 2, 5])
    func retentionAfterSuccess(keep: Int) async throws {
        let destination = MemoryDestination()
        let earlier = (1...3).reversed().map { destination.seedBackup(job: "app", started: day(Double(-$0) * 3_600)) }
        let foreign = destination.seedBackup(job: "app2", started: day(-86_400))
        let job = makeJob(source: FakeSource(chunks: [[1]]), destination: destination,
                          retention: KeepLastRetention(last: keep))
        let outcome = try await pipeline(FakeClock(day())).run(job, logger: testLogger)

        let expectedDeleted = Array(earlier.prefix(max(0, 4 - keep)))
        #expect(outcome.deleted == expectedDeleted)
        #expect(destination.objects[outcome.record.name] != nil)
        #expect(destination.objects[foreign] != nil)
        for name in earlier {
            #expect((destination.objects[name] == nil) == expectedDeleted.contains(name))
        }
    }

    @Test("a policy that deletes everything leaves the backup just made")
    func deleteEverythingKeepsNew() async throws {
        let destination = MemoryDestination()
        let earlier = destination.seedBackup(job: "app", started: day(-3_600))
        let job = makeJob(source: FakeSource(chunks: [[1]]), destination: destination,
                          retention: DeleteEverythingRetention())
        let outcome = try await pipeline(FakeClock(day())).run(job, logger: testLogger)
        #expect(outcome.deleted == [earlier])
        #expect(destination.names == [outcome.record.name, outcome.record.name + Manifest.suffix])
    }
}
