import CLibDeflate
import CZlib
import Engine

/// A libdeflate compressor, kept for the life of its worker thread. libdeflate compresses a whole buffer as
/// one complete deflate stream; every block but the last is then made joinable: its final bit cleared and
/// an empty stored block appended, which byte-aligns it (zlib's sync flush ends a block the same way).
final class BlockDeflater: @unchecked Sendable {
    // @unchecked: used by the one worker thread it was made for.
    private let compressor: OpaquePointer
    private let scanner = DeflateBlockScanner()

    init(level: Int) throws {
        guard let compressor = libdeflate_alloc_compressor(Int32(level)) else {
            throw BackupError(.compression, "libdeflate could not start at level \(level)")
        }
        self.compressor = compressor
    }

    deinit { libdeflate_free_compressor(compressor) }

    func deflate(_ job: DeflateJob) throws -> DeflateResult {
        // The bound covers a whole stream; 8 bytes more cover the empty stored block.
        let bound = libdeflate_deflate_compress_bound(compressor, job.input.count) + 8
        var failure: String?
        let output = [UInt8](unsafeUninitializedCapacity: bound) { out, produced in
            produced = job.input.withUnsafeBytes { input in
                libdeflate_deflate_compress(compressor, input.baseAddress, input.count, out.baseAddress, out.count)
            }
            guard produced > 0 else { return failure = "libdeflate's output did not fit its own bound" }
            if !job.last { failure = makeJoinable(out, count: &produced) }
        }
        // The pool says "gzip failed: " before the reason.
        if let failure { throw BackupError(.compression, failure) }
        let crc = job.input.withUnsafeBytes { uLong(libdeflate_crc32(0, $0.baseAddress, $0.count)) }
        return DeflateResult(output: output, crc: crc, inputCount: job.input.count)
    }

    /// Turns the complete stream in `buffer[..<count]` into one that more blocks may follow; a reason if
    /// the stream could not be read.
    private func makeJoinable(_ buffer: UnsafeMutableBufferPointer<UInt8>, count: inout Int) -> String? {
        let stream = UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<count]))
        guard let ends = scanner.scan(stream) else {
            return "a block from libdeflate could not be joined (a bug in backup; compressor = zstd avoids it)"
        }
        buffer[ends.finalBlock >> 3] &= ~(1 << UInt8(ends.finalBlock & 7))
        // The 3 zero bits of a stored block's header (not final, type 0) follow the end, then zeros up to
        // the byte boundary, then its length 0 and that length's complement.
        if ends.end & 7 != 0 { buffer[ends.end >> 3] &= (1 << UInt8(ends.end & 7)) - 1 }
        let aligned = (ends.end + 3 + 7) >> 3
        for index in count..<aligned { buffer[index] = 0 }
        for (offset, byte) in [UInt8]([0, 0, 0xff, 0xff]).enumerated() { buffer[aligned + offset] = byte }
        count = aligned + 4
        return nil
    }
}
