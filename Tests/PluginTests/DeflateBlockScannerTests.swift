import Foundation
@testable import Plugins
import Testing

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

    /// zlib's streams, from the system `gzip` with the gzip header (10 bytes without a name) and trailer
    /// (8 bytes) taken off: codes up to 15 bits long, which libdeflate does not write.
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
