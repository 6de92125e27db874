@testable import Engine
import Foundation
import Testing

/// Fails decoding as soon as it meets 0xFF, as a real decoder fails on corrupt data part way through.
final class StrictDecoder: ByteTransform {
    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        if input.contains(0xFF) { throw BackupError(.compression, "the data is corrupt (0xFF)") }
        output.append(contentsOf: input)
    }
    func finish(into output: inout [UInt8]) throws {}
}

/// Stores bytes unchanged; its decoder rejects 0xFF, which its encoder never sees in these tests.
struct StrictStage: Stage {
    var name: String { "strict" }
    var fileExtension: String? { "strict" }
    func makeEncoder() throws -> any ByteTransform { PassThroughTransform() }
    func makeDecoder(for record: StageRecord) throws -> any ByteTransform { StrictDecoder() }
}

/// What `verify` and `restore` read from the destination: verify reads a backup once, hashing it as it
/// streams into the scratch restore; a restore into a real database proves the file first, then streams it.
@Suite("Reads per command")
struct VerifyReadsTests {
    /// Three 1 MiB chunks and a bit, none of them 0xFF.
    static let raw: [UInt8] = Array((0..<(3 << 20) + 1000).map { UInt8($0 % 251) })

    func backedUp(stage: any Stage = ReversibleXorStage()) async throws -> (Job, BackupRecord, MemoryDestination, CollectingSource) {
        let destination = MemoryDestination()
        let source = CollectingSource(base: FakeSource(chunks: [Array(Self.raw[..<(1 << 20)]), Array(Self.raw[(1 << 20)...])]))
        var job = makeJob(source: source, destination: destination)
        job.stages = [JobStage(.compressor, stage)]
        let record = try await BackupPipeline(now: { day() }).run(job, logger: testLogger).record
        destination.state.update { $0.reads = [] }
        return (job, record, destination, source)
    }

    @Test func verifyReadsTheBackupOnce() async throws {
        let (job, record, destination, source) = try await backedUp()
        let outcome = try await RestorePipeline(registry: .test).verify(job.stored(record), job: job, logger: testLogger)
        #expect(outcome.restored && outcome.problem == nil)
        #expect(source.restored.value == Self.raw)
        #expect(destination.state.value.reads.filter { $0 == record.name }.count == 1, "\(destination.state.value.reads)")
    }

    @Test func restoreProvesTheFileThenStreamsIt() async throws {
        let (job, record, destination, source) = try await backedUp()
        _ = try await RestorePipeline(registry: .test).restore(job.stored(record), job: job, mode: .newDatabase("copy", replace: false), logger: testLogger)
        #expect(source.restored.value == Self.raw)
        #expect(destination.state.value.reads.filter { $0 == record.name }.count == 2)
    }

    /// A flipped byte that the decoder does not notice: the checksum, taken on the way, fails the verify.
    @Test func verifyFindsDamageTheDecoderMisses() async throws {
        let (job, record, destination, _) = try await backedUp()
        destination.state.update { $0.objects[record.name]![2_000_000] ^= 0x01 }
        await #expect { try await RestorePipeline(registry: .test).verify(job.stored(record), job: job, logger: testLogger) } throws: {
            ($0 as? BackupError)?.code == .corrupt && "\($0)".contains("is damaged")
        }
        #expect(destination.state.value.reads.filter { $0 == record.name }.count == 1)
    }

    /// Damage the decoder trips over in the first chunk: verify still reads to the end and says the file
    /// is damaged, rather than passing on the decoder's complaint.
    @Test func damageIsReportedAsDamageEvenWhenTheDecoderFailsFirst() async throws {
        let (job, record, destination, _) = try await backedUp(stage: StrictStage())
        destination.state.update { $0.objects[record.name]![10] = 0xFF }
        await #expect { try await RestorePipeline(registry: .test).verify(job.stored(record), job: job, logger: testLogger) } throws: {
            ($0 as? BackupError)?.code == .corrupt
        }
        #expect(destination.state.value.reads.filter { $0 == record.name }.count == 1)
        // Repaired, the same file verifies: it was the damage the decoder tripped over.
        destination.state.update { $0.objects[record.name]![10] = Self.raw[10] }
        #expect(try await RestorePipeline(registry: .test).verify(job.stored(record), job: job, logger: testLogger).problem == nil)
    }
}
