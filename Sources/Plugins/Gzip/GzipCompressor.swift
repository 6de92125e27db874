import CZlib
import Engine
import Foundation

/// `gzip`: standard gzip streams through zlib, in-process. Reads multi-member files as `gunzip` does.
public struct GzipCompressorFactory: CompressorFactory {
    public init() {}
    public let name = "gzip"
    public let summary = "gzip (zlib), readable by gunzip"
    public let keys = [
        KeySpec("level", .integer(1...9), default: "6", summary: "compression level, 1 (fast) to 9 (small)"),
        KeySpec("threads", .integer(1...256), default: String(CPUCount.available),
                summary: "threads compressing blocks in parallel, pigz-style (default: the cores this process may use; 1: one zlib stream)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Compressor {
        GzipCompressor(level: settings.integer("level") ?? 6,
                       threads: settings.integer("threads") ?? CPUCount.available)
    }
}

public struct GzipCompressor: Compressor {
    public let level: Int?
    /// With more than one, blocks are compressed in parallel (``ParallelGzipEncoder``); the output is one
    /// standard gzip stream either way.
    public let threads: Int
    public var name: String { "gzip" }
    public var fileExtension: String? { "gz" }

    public init(level: Int = 6, threads: Int = 1) {
        self.level = level
        self.threads = threads
    }

    public func makeEncoder() throws -> any ByteTransform {
        threads > 1 ? try ParallelGzipEncoder(level: level ?? 6, threads: threads) : try ZlibStream(deflateLevel: level ?? 6)
    }
    public func makeDecoder() throws -> any ByteTransform { try ZlibStream(deflateLevel: nil) }
}

/// Owns a `z_stream`; zlib keeps pointers into it, so it lives at a fixed heap address for its whole life.
final class ZlibStream: ByteTransform {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let inflating: Bool
    private var ended = false
    private let window = OutputWindow(size: 256 * 1024)

    /// `deflateLevel` nil makes a decoder.
    init(deflateLevel: Int?) throws {
        stream.initialize(to: z_stream())
        inflating = deflateLevel == nil
        let size = Int32(MemoryLayout<z_stream>.size)
        let status: Int32
        if let level = deflateLevel {
            // windowBits 15 + 16 asks zlib for a gzip header and trailer instead of a zlib wrapper.
            status = deflateInit2_(stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, size)
        } else {
            // windowBits 15 + 32 accepts gzip or zlib headers.
            status = inflateInit2_(stream, 15 + 32, ZLIB_VERSION, size)
        }
        guard status == Z_OK else {
            stream.deallocate()
            throw BackupError(.compression, "zlib could not start (status \(status))")
        }
    }

    deinit {
        if inflating { inflateEnd(stream) } else { deflateEnd(stream) }
        stream.deallocate()
    }

    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        stream.pointee.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
        stream.pointee.avail_in = UInt32(input.count)
        if inflating { try inflateAll(into: &output) } else { try deflateAll(flush: Z_NO_FLUSH, into: &output) }
    }

    func finish(into output: inout [UInt8]) throws {
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        if !inflating { return try deflateAll(flush: Z_FINISH, into: &output) }
        if !ended { throw BackupError(.compression, "the gzip data ends early: the file is truncated") }
    }

    /// Calls zlib once with a fresh output window; returns its status.
    private func step(_ flush: Int32, into output: inout [UInt8]) -> Int32 {
        var status: Int32 = Z_OK
        _ = window.fill(into: &output) { buffer in
            stream.pointee.next_out = buffer.baseAddress
            stream.pointee.avail_out = UInt32(buffer.count)
            status = inflating ? inflate(stream, flush) : deflate(stream, flush)
            return buffer.count - Int(stream.pointee.avail_out)
        }
        return status
    }

    private func deflateAll(flush: Int32, into output: inout [UInt8]) throws {
        while true {
            let status = step(flush, into: &output)
            if status == Z_STREAM_END { return }
            guard status == Z_OK || status == Z_BUF_ERROR else { throw failure(status) }
            // Without Z_FINISH, done once zlib took all input and left room in the window (nothing pending).
            if flush != Z_FINISH && stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
        }
    }

    private func inflateAll(into output: inout [UInt8]) throws {
        while stream.pointee.avail_in > 0 || !ended {
            if ended {
                // gunzip reads concatenated gzip members as one file; so do we.
                inflateReset(stream)
                ended = false
            }
            let status = step(Z_NO_FLUSH, into: &output)
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
        return BackupError(.compression, inflating ? "the gzip data is corrupt: \(reason)" : "gzip failed: \(reason)")
    }
}

/// A fixed output window that a C library writes into; what it produced is then appended to the output.
/// Reused for the life of a transform, so no allocation or zero-filling happens per chunk.
final class OutputWindow {
    let buffer: UnsafeMutableBufferPointer<UInt8>

    init(size: Int) { buffer = .allocate(capacity: size) }
    deinit { buffer.deallocate() }

    /// Lets `body` fill the window and return how many bytes it produced; appends those to `output`.
    func fill(into output: inout [UInt8], _ body: (UnsafeMutableBufferPointer<UInt8>) throws -> Int) rethrows -> Int {
        let produced = try body(buffer)
        output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<produced]))
        return produced
    }
}
