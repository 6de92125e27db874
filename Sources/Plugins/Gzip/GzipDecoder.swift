import CZlib
import Engine
import PluginSupport

/// zlib's inflate, reading gzip (or zlib) data. Owns a `z_stream`; zlib keeps pointers into it, so it lives
/// at a fixed heap address for its whole life.
final class GzipDecoder: ByteTransform {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var ended = false
    private let window = OutputWindow(size: 256 * 1024)

    init() throws {
        stream.initialize(to: z_stream())
        // windowBits 15 + 32 accepts gzip or zlib headers.
        let status = inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw BackupError(.compression, "zlib could not start (status \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        stream.pointee.next_in = input.baseAddress.map {
            UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
        }
        stream.pointee.avail_in = UInt32(input.count)
        try inflateAll(into: &output)
    }

    func finish(into output: inout [UInt8]) throws {
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        if !ended { throw BackupError(.compression, "the gzip data ends early: the file is truncated") }
    }

    /// Calls zlib once with a fresh output window; returns its status.
    private func step(into output: inout [UInt8]) -> Int32 {
        var status: Int32 = Z_OK
        _ = window.fill(into: &output) { buffer in
            stream.pointee.next_out = buffer.baseAddress
            stream.pointee.avail_out = UInt32(buffer.count)
            status = inflate(stream, Z_NO_FLUSH)
            return buffer.count - Int(stream.pointee.avail_out)
        }
        return status
    }

    private func inflateAll(into output: inout [UInt8]) throws {
        while stream.pointee.avail_in > 0 || !ended {
            if ended {
                // gunzip reads concatenated gzip members as one file; so do we.
                inflateReset(stream)
                ended = false
            }
            let status = step(into: &output)
            switch status {
            case Z_STREAM_END:
                ended = true
            case Z_OK, Z_BUF_ERROR:
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
            default:
                throw failure(status)
            }
        }
    }

    private func failure(_ status: Int32) -> BackupError {
        let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
        return BackupError(.compression, "the gzip data is corrupt: \(reason)")
    }
}
