@testable import Engine
import Foundation
import Testing

/// Adds 1 to every byte and appends `+` in `finish`; its decoder undoes exactly that and rejects input
/// without the mark. Together with ``XorTransform`` (whose output differs when the order differs), it
/// shows that a chain applies its links in order and a restore undoes them in reverse.
final class AddOneTransform: ByteTransform {
    let decoding: Bool
    private var held: UInt8?

    init(decoding: Bool) { self.decoding = decoding }

    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        for byte in input {
            if decoding {
                // The last byte may be the mark, so each byte is passed on only when the next arrives.
                if let held { output.append(held &- 1) }
                held = byte
            } else {
                output.append(byte &+ 1)
            }
        }
    }

    func finish(into output: inout [UInt8]) throws {
        guard decoding else { return output.append(0x2B) }
        guard held == 0x2B else { throw BackupError(.compression, "the +1 data has no end mark") }
    }
}

struct AddOneStage: Stage {
    var name: String { "plus" }
    var fileExtension: String? { "plus" }
    var parameters: [String: String] { ["step": "1"] }
    func makeEncoder() throws -> any ByteTransform { AddOneTransform(decoding: false) }
    func makeDecoder(for record: StageRecord) throws -> any ByteTransform {
        guard record.parameters == ["step": "1"] else { throw BackupError(.compression, "unknown step") }
        return AddOneTransform(decoding: true)
    }
}

/// An XOR "decoder" that strips the trailer its encoder appends, so XOR round trips are exact.
final class XorDecoder: ByteTransform {
    private var buffered: [UInt8] = []
    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws { buffered += input }
    func finish(into output: inout [UInt8]) throws {
        guard buffered.count >= 6 else { throw BackupError(.compression, "no trailer") }
        output += buffered.dropLast(6).map { $0 ^ 0x5A }
    }
}

struct ReversibleXorStage: Stage {
    var name: String { "fz" }
    var fileExtension: String? { "fz" }
    var level: Int? { 3 }
    func makeEncoder() throws -> any ByteTransform { XorTransform() }
    func makeDecoder(for record: StageRecord) throws -> any ByteTransform { XorDecoder() }
}

@Suite("Chain of stages")
struct StageChainTests {
    static let raw: [UInt8] = Array((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })

    /// Feeds `input` to `transform` in pieces of `chunk` bytes.
    static func run(_ transform: any ByteTransform, _ input: [UInt8], chunk: Int) throws -> [UInt8] {
        var output: [UInt8] = []
        for start in stride(from: 0, to: input.count, by: chunk) {
            try input[start..<min(start + chunk, input.count)].withUnsafeBytes { try transform.update($0, into: &output) }
        }
        try transform.finish(into: &output)
        return output
    }

    @Test("encoders run in order, decoders in reverse, at any chunk size", arguments: [1, 7, 4096, 1 << 20])
    func order(chunk: Int) throws {
        let plus = AddOneStage(), xor = ReversibleXorStage()
        let encoded = try Self.run(ChainTransform.chain([try plus.makeEncoder(), try xor.makeEncoder()]), Self.raw, chunk: chunk)
        let byHand = XorTransform.expected(Self.raw.map { $0 &+ 1 } + [0x2B])
        #expect(encoded == byHand)
        let record = StageRecord(plus, kind: .compressor)
        let decoded = try Self.run(ChainTransform.chain([try xor.makeDecoder(for: record), try plus.makeDecoder(for: record)]),
                                   encoded, chunk: chunk)
        #expect(decoded == Self.raw)
        // Undone in the wrong order, the +1 decoder finds no end mark.
        #expect(throws: BackupError.self) {
            try Self.run(ChainTransform.chain([try plus.makeDecoder(for: record), try xor.makeDecoder(for: record)]), encoded, chunk: chunk)
        }
    }

    @Test("a chain of one is the transform itself; a chain of none passes bytes through")
    func degenerate() throws {
        let single = XorTransform()
        #expect(ChainTransform.chain([single]) === single)
        #expect(try ChainTransform.chain([]).transformAll([1, 2, 3]) == [1, 2, 3])
    }

    @Test("a two-stage job names its file after the chain, records it, and restores through its inverse")
    func pipelineRoundTrip() async throws {
        let destination = MemoryDestination()
        let source = CollectingSource(base: FakeSource(chunks: [Array(Self.raw[..<30_000]), Array(Self.raw[30_000...])]))
        var job = makeJob(source: source, destination: destination)
        job.stages = [JobStage(.compressor, ReversibleXorStage()), JobStage(.compressor, AddOneStage())]
        let outcome = try await BackupPipeline(now: { day() }).run(job, logger: testLogger)

        #expect(outcome.record.name == "app_20261125T010000Z.sql.fz.plus")
        #expect(destination.objects[outcome.record.name] == XorTransform.expected(Self.raw).map { $0 &+ 1 } + [0x2B])
        #expect(outcome.record.manifest.stages == [
            StageRecord(kind: "compressor", name: "fz", level: 3),
            StageRecord(kind: "compressor", name: "plus", parameters: ["step": "1"]),
        ])
        #expect(outcome.record.manifest.chain == "fz+plus")

        _ = try await RestorePipeline(registry: .test).restore(job.stored(outcome.record), job: job, mode: .newDatabase("copy", replace: false), logger: testLogger)
        #expect(source.restored.value == Self.raw)
        // The chain changed the bytes, so the source is not offered the stored file to read directly.
        #expect(source.requests.value.map(\.localDumpFile) == [nil])
    }
}

@Suite("Manifest versions")
struct ManifestVersionTests {
    /// A manifest as the release before the chain of stages wrote it (manifest_version 1).
    static let versionOne = """
        {
          "compression_level" : 6,
          "compressor" : "gzip",
          "database" : "app",
          "file" : "app_20261125T010000Z.sql.gz",
          "finished_at" : "2026-11-25T01:00:05Z",
          "format" : "plain",
          "job" : "app",
          "manifest_version" : 1,
          "pg_dump_version" : "15.8",
          "raw_bytes" : 10,
          "server_version" : "15.8",
          "sha256" : "\(String(repeating: "0", count: 64))",
          "started_at" : "2026-11-25T01:00:00Z",
          "stored_bytes" : 16
        }
        """

    @Test("a version 1 manifest reads as a chain of its one compressor")
    func readsVersionOne() throws {
        let manifest = try Manifest.decode(Array(Self.versionOne.utf8))
        #expect(manifest.stages == [StageRecord(kind: "compressor", name: "gzip", level: 6)])
        #expect(manifest.dumpToolVersion == "15.8")
        #expect(manifest.manifestVersion == 1)
        let none = try Manifest.decode(Array(Self.versionOne.replacingOccurrences(of: "\"gzip\"", with: "\"none\"")
            .replacingOccurrences(of: "\"compression_level\" : 6,", with: "").utf8))
        #expect(none.stages == [StageRecord(kind: "compressor", name: "none")])
    }

    @Test("what this release writes is version 2, with stages and dump_tool_version")
    func writesVersionTwo() throws {
        let manifest = makeManifest(job: "app", file: "f", started: day())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try manifest.encoded())) as? [String: Any])
        #expect(object["manifest_version"] as? Int == 2)
        #expect(object["dump_tool_version"] as? String == "15.8")
        #expect((object["stages"] as? [[String: Any]])?.first?["name"] as? String == "fz")
    }

    @Test("a version 1 manifest written again (a verification recorded) is version 2")
    func rewrittenVersionOneIsVersionTwo() throws {
        var manifest = try Manifest.decode(Array(Self.versionOne.utf8))
        manifest.verification = "passed"
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try manifest.encoded())) as? [String: Any])
        #expect(object["manifest_version"] as? Int == 2 && object["dump_tool_version"] as? String == "15.8")
        #expect(object["compressor"] == nil && (object["stages"] as? [[String: Any]])?.first?["name"] as? String == "gzip")
        var reread = try Manifest.decode(try manifest.encoded())
        reread.manifestVersion = 1
        #expect(reread == manifest)
    }

    @Test("a manifest from a newer release is refused, not misread")
    func refusesNewer() throws {
        let newer = Self.versionOne.replacingOccurrences(of: "\"manifest_version\" : 1", with: "\"manifest_version\" : 3")
        let error = #expect(throws: DecodingError.self) { try Manifest.decode(Array(newer.utf8)) }
        guard case .dataCorrupted(let context)? = error else {
            Issue.record("not a refusal of the version: \(String(describing: error))")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["manifest_version"])
        #expect(context.debugDescription.contains("manifest version 3 is newer than this release reads (2); upgrade backup"),
                "\(context.debugDescription)")
    }
}
