import Engine
import Foundation
import Gzip
import None
import Testing
import TestSupport
import Zstd

/// Real libdeflate, zlib and libzstd against the real system `gunzip`/`gzip` and `zstd` tools, and every
/// thread count's output one standard stream. (The contract every stage keeps: CompressorConformanceTests.)
@Suite struct CompressorTests {
    static let compressors: [any Compressor] = [
        GzipCompressor(level: 1), GzipCompressor(level: 6), GzipCompressor(level: 9),
        ZstdCompressor(level: 1), ZstdCompressor(level: 3), ZstdCompressor(level: 9), NoneCompressor(),
        ZstdCompressor(level: 3, threads: 1), ZstdCompressor(level: 3, threads: 2), ZstdCompressor(level: 5, threads: 4),
        GzipCompressor(level: 6, threads: 2), GzipCompressor(level: 1, threads: 3), GzipCompressor(level: 9, threads: 8),
    ]

    /// Every thread count's output must be one stream the system tools read.
    static let threadCounts = [1, 2, 3, 4, 8]

    /// Compressible text, incompressible noise, and the edges: empty, one byte, and parallel gzip's block
    /// size (1 MiB) exactly and one byte past three blocks.
    static let samples: [[UInt8]] = [
        [], [42],
        Array((0..<200_000).map { "line \($0) of a dump;\n" }.joined().utf8),
        (0..<(1 << 20) + 3).map { _ in UInt8.random(in: 0...255) },
        Array(Array((0..<150_000).map { "row \($0)\n" }.joined().utf8).prefix(1 << 20)),
        (0..<3 << 20 + 1).map { UInt8(truncatingIfNeeded: $0 / 7) },
    ]

    /// Feeds `input` in uneven chunks, as pg_dump's pipe does.
    static func transform(_ input: [UInt8], with transform: any ByteTransform, chunk: Int = 65_521) throws -> [UInt8] {
        var output: [UInt8] = []
        var offset = 0
        while offset < input.count {
            let end = min(offset + chunk, input.count)
            try input[offset..<end].withUnsafeBytes { try transform.update($0, into: &output) }
            offset = end
        }
        try transform.finish(into: &output)
        return output
    }

    /// Our decoders read what our encoders write at every level and thread count.
    @Test(arguments: compressors)
    func roundTrip(_ compressor: any Compressor) throws {
        for sample in Self.samples {
            let packed = try Self.transform(sample, with: try compressor.makeEncoder())
            let unpacked = try Self.transform(packed, with: try compressor.makeDecoder(for: StageRecord(compressor, kind: .compressor)), chunk: 1000)
            #expect(unpacked == sample, "\(compressor.name) \(compressor.level ?? 0) lost data on \(sample.count) bytes")
        }
    }

    @Test(arguments: [1, 6, 9], threadCounts)
    func gzipOutputPassesSystemGunzip(level: Int, threads: Int) async throws {
        try await checkSystemTool(GzipCompressor(level: level, threads: threads), test: "gunzip -t", decompress: "gunzip -c")
    }

    @Test(arguments: [1, 3, 19], [0] + threadCounts)
    func zstdOutputPassesSystemZstd(level: Int, threads: Int) async throws {
        try await checkSystemTool(ZstdCompressor(level: level, threads: threads), test: "zstd -q -t", decompress: "zstd -q -dc")
    }

    /// Writes `output` to INPUT.gz and checks, in Python, that it is one gzip member, read whole by zlib's
    /// inflate (which stops after a member), holding exactly the bytes of the file `input`.
    static func checkOneMember(_ output: [UInt8], of input: String) async throws -> Shell.Result {
        try Data(output).write(to: URL(fileURLWithPath: "\(input).gz"))
        return try await Shell.run("/usr/bin/python3", ["-c", oneMemberCheck, input])
    }

    private static let oneMemberCheck = """
        import sys, zlib
        inflater = zlib.decompressobj(31)
        data = inflater.decompress(open(sys.argv[1] + ".gz", "rb").read())
        assert inflater.eof and not inflater.unused_data, "more than one member, or not the whole"
        assert data == open(sys.argv[1], "rb").read(), "different bytes"
        """

    /// Parallel gzip joins its blocks into one gzip member, the same bytes whatever the thread count, which
    /// a bare zlib inflate (Python's, which stops after a member) reads whole: not several members, which
    /// `gunzip` would also accept.
    @Test func parallelGzipIsOneMemberWhateverTheThreads() async throws {
        let directory = try Paths.temporaryDirectory("member")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = Self.samples[5]
        try Data(input).write(to: URL(fileURLWithPath: "\(directory)/in"))
        let outputs = try [1, 2, 3, 4].map { try Self.transform(input, with: try GzipCompressor(level: 6, threads: $0).makeEncoder()) }
        #expect(Set(outputs).count == 1, "sizes \(outputs.map(\.count))")
        let result = try await Self.checkOneMember(outputs[0], of: "\(directory)/in")
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// Joining independent 1 MiB blocks must not cost the ratio: no larger than one `gzip -6` stream.
    @Test func parallelGzipIsNoLargerThanGzip() async throws {
        let directory = try Paths.temporaryDirectory("ratio")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = Self.samples[2] + Self.samples[4]
        try Data(input).write(to: URL(fileURLWithPath: "\(directory)/in"))
        let output = try await Shell.sh("gzip -6 -c \(directory)/in | wc -c").stdout
        let size = try #require(Int(output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let ours = try Self.transform(input, with: try GzipCompressor(level: 6, threads: 2).makeEncoder())
        #expect(ours.count <= size, "ours \(ours.count) bytes against gzip's \(size)")
    }

    private func checkSystemTool(_ compressor: any Compressor, test: String, decompress: String) async throws {
        let directory = try Paths.temporaryDirectory("compress")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (index, sample) in Self.samples.enumerated() {
            let file = "\(directory)/sample\(index).\(compressor.fileExtension!)"
            try Data(try Self.transform(sample, with: try compressor.makeEncoder())).write(to: URL(fileURLWithPath: file))
            #expect(try await Shell.sh("\(test) \(file)").status == 0, "\(test) rejected our \(file)")
            try await Shell.sh("\(decompress) \(file) > \(file).out")
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: "\(file).out"))) == sample)
        }
    }

    @Test(arguments: [("gzip -c", GzipCompressor() as any Compressor), ("zstd -q -c", ZstdCompressor()), ("zstd -q -c -T2 -19", ZstdCompressor())])
    func systemToolOutputDecompressesWithOurs(_ tool: String, _ compressor: any Compressor) async throws {
        let directory = try Paths.temporaryDirectory("interop")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sample = Self.samples[2]
        try Data(sample).write(to: URL(fileURLWithPath: "\(directory)/in"))
        try await Shell.sh("\(tool) \(directory)/in > \(directory)/packed")
        let packed = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/packed")))
        #expect(try Self.transform(packed, with: try compressor.makeDecoder(for: StageRecord(compressor, kind: .compressor))) == sample)
    }

    /// `gunzip` and `zstd -d` read concatenated members/frames as one stream; so must we.
    @Test(arguments: [("gzip -c", GzipCompressor() as any Compressor), ("zstd -q -c", ZstdCompressor())])
    func concatenatedStreamsDecodeAsOne(_ tool: String, _ compressor: any Compressor) async throws {
        let directory = try Paths.temporaryDirectory("concat")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "first part\n".write(toFile: "\(directory)/a", atomically: true, encoding: .utf8)
        try "second part\n".write(toFile: "\(directory)/b", atomically: true, encoding: .utf8)
        try await Shell.sh("\(tool) \(directory)/a > \(directory)/packed && \(tool) \(directory)/b >> \(directory)/packed")
        let packed = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/packed")))
        #expect(try Self.transform(packed, with: try compressor.makeDecoder(for: StageRecord(compressor, kind: .compressor)), chunk: 7) == Array("first part\nsecond part\n".utf8))
    }
}
