import Foundation
@testable import Gzip
import Testing
import TestSupport

/// The scanner must find the final block and the end of any valid deflate stream, libdeflate's and zlib's,
/// and refuse anything else, since parallel gzip joins blocks where it says.
@Suite struct DeflateBlockScannerTests {
    static func scan(_ bytes: [UInt8]) -> DeflateBlockScanner.Ends? {
        bytes.withUnsafeBytes { DeflateBlockScanner().scan($0) }
    }

    /// Streams written bit by bit from RFC 1951.
    @Test func handWrittenStreams() {
        // A final fixed-Huffman block holding only its end-of-block code: 3 header bits and 7 code bits.
        #expect(Self.scan([0x03, 0x00]) == .init(finalBlock: 0, end: 10))
        // A final stored block of "abc": header, alignment, LEN 3, NLEN, the bytes.
        #expect(Self.scan([0x01, 0x03, 0x00, 0xfc, 0xff, 0x61, 0x62, 0x63]) == .init(finalBlock: 0, end: 64))
        // An empty stored block that is not final (a sync flush), then the fixed block above.
        #expect(Self.scan([0x00, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00]) == .init(finalBlock: 40, end: 50))
    }

    /// Dynamic-block headers that zlib refuses, written bit by bit: a final dynamic block with 257 literal
    /// and 1 distance lengths, and these code-length code lengths (in the order deflate sends them:
    /// 16, 17, 18, 0, 8, …), then the given bits.
    static func dynamicBlock(codeLengthLengths: [Int], then bits: [Int] = []) -> [UInt8] {
        var writer = BitWriter()
        writer.put(1, 1)
        writer.put(2, 2)
        writer.put(0, 5)
        writer.put(0, 5)
        writer.put(codeLengthLengths.count - 4, 4)
        for length in codeLengthLengths { writer.put(length, 3) }
        for bit in bits { writer.put(bit, 1) }
        return writer.bytes
    }

    @Test func refusesCodesZlibRefuses() {
        // All 19 code-length codes 1 bit long: more codes than 1 bit can tell apart.
        #expect(Self.scan(Self.dynamicBlock(codeLengthLengths: Array(repeating: 1, count: 19))) == nil)
        // One code-length code of 1 bit (symbol 0): half the codes unused, which zlib refuses.
        #expect(Self.scan(Self.dynamicBlock(codeLengthLengths: [0, 0, 0, 1])) == nil)
        // Codes 0 ("0") and 16 ("1"), and a 16 first: it would repeat a length before any.
        #expect(Self.scan(Self.dynamicBlock(codeLengthLengths: [1, 0, 0, 1], then: [1, 0, 0])) == nil)
    }

    @Test func refusesWhatIsNotOneWholeStream() {
        #expect(Self.scan([]) == nil)
        #expect(Self.scan([0x03]) == nil, "cut short")
        #expect(Self.scan([0x03, 0x00, 0x00]) == nil, "a byte after the end")
        #expect(Self.scan([0x00, 0x00, 0x00, 0xff, 0xff]) == nil, "no final block")
        #expect(Self.scan([0x07, 0x00]) == nil, "block type 3")
        #expect(Self.scan([0x01, 0x03, 0x00, 0xfc, 0xfe, 0x61, 0x62, 0x63]) == nil, "NLEN is not LEN's complement")
        #expect(Self.scan([0x01, 0x03, 0x00, 0xfc, 0xff, 0x61, 0x62]) == nil, "stored bytes cut short")
    }

    /// Text (dynamic Huffman blocks), noise (stored blocks) and tiny inputs (fixed blocks), at every level
    /// libdeflate has; a stream cut short by a byte is refused.
    @Test(arguments: 1...12)
    func libdeflateStreams(level: Int) throws {
        let deflater = try BlockDeflater(level: level)
        for sample in CompressorTests.samples {
            let stream = try deflater.deflate(DeflateJob(index: 0, input: sample, last: true)).output
            let ends = try #require(Self.scan(stream), "level \(level), \(sample.count) bytes")
            #expect((ends.end + 7) / 8 == stream.count)
            #expect(stream[ends.finalBlock >> 3] & (1 << UInt8(ends.finalBlock & 7)) != 0, "the final bit is set")
            #expect(Self.scan(Array(stream.dropLast())) == nil)
        }
    }

    /// Joins at every bit offset a stream can end on, and of every block type: blocks from 1 byte (fixed
    /// Huffman) to 64 KiB, of text, noise (stored) and runs, at every level, each read by a bare zlib
    /// inflate (Python's) as one member holding exactly the input.
    @Test(arguments: 1...9)
    func smallBlocksJoinIntoOneMember(level: Int) async throws {
        let directory = try Paths.temporaryDirectory("join")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = Array((0..<4000).map { "row \($0)\t\($0 * 7919 % 1000)\n" }.joined().utf8)
        let input = text + (0..<20_000).map { _ in UInt8.random(in: 0...255) } + [UInt8](repeating: 7, count: 9000) + text
        try Data(input).write(to: URL(fileURLWithPath: "\(directory)/in"))
        for blockSize in [1, 7, 100, 4096, 65_537] {
            let encoder = try ParallelGzipEncoder(level: level, threads: 2, blockSize: blockSize)
            let output = try CompressorTests.transform(input, with: encoder)
            let result = try await CompressorTests.checkOneMember(output, of: "\(directory)/in")
            #expect(result.status == 0, "level \(level), \(blockSize)-byte blocks: \(result.stderr)")
        }
    }

    /// zlib's streams, from the system `gzip` with the gzip header (10 bytes without a name) and trailer
    /// (8 bytes) taken off: codes up to 15 bits long, where libdeflate stops at 14.
    @Test(arguments: [1, 6, 9])
    func zlibStreams(level: Int) async throws {
        let directory = try Paths.temporaryDirectory("scan")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (index, sample) in CompressorTests.samples.enumerated() {
            try Data(sample).write(to: URL(fileURLWithPath: "\(directory)/\(index)"))
            try await Shell.sh("gzip -\(level) -n -c < \(directory)/\(index) > \(directory)/\(index).gz")
            let gzip = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(index).gz")))
            let stream = Array(gzip[10..<gzip.count - 8])
            #expect(Self.scan(stream) != nil, "gzip -\(level) of \(sample.count) bytes")
        }
    }
}

/// Writes bits least significant first, as deflate packs them.
struct BitWriter {
    var bytes: [UInt8] = []
    var count = 0

    mutating func put(_ value: Int, _ width: Int) {
        for bit in 0..<width {
            if count % 8 == 0 { bytes.append(0) }
            if value >> bit & 1 == 1 { bytes[bytes.count - 1] |= 1 << UInt8(count % 8) }
            count += 1
        }
    }
}
