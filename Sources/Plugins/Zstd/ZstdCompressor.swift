import CZstd
import Foundation
import Engine
import PluginSupport

/// `zstd`: standard zstd frames through libzstd, in-process. Reads concatenated frames as `zstd -d` does.
public struct ZstdCompressorFactory: CompressorFactory {
    public init() {}
    public let name = "zstd"
    public let summary = "zstd (libzstd), readable by zstd -d"
    public let keys = [
        KeySpec("level", .integer(1...19), default: "3", summary: "compression level, 1 (fast) to 19 (small)"),
        KeySpec("threads", .integer(0...256), default: String(CPUCount.available),
                summary: "libzstd worker threads (default: the cores this process may use; 0: compress on the calling thread)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Compressor {
        ZstdCompressor(level: try settings.integer(required: "level"), threads: try settings.integer(required: "threads"))
    }
}

public struct ZstdCompressor: Compressor {
    public let level: Int?
    /// libzstd's own worker threads; 0 compresses on the calling thread. The output is one standard frame
    /// stream either way.
    public let threads: Int
    public var name: String { "zstd" }
    public var fileExtension: String? { "zst" }

    public init(level: Int = 3, threads: Int = 0) {
        self.level = level
        self.threads = threads
    }

    public func makeEncoder() throws -> any ByteTransform { try ZstdEncoder(level: level ?? 3, threads: threads) }
    public func makeDecoder(for record: StageRecord) throws -> any ByteTransform { try ZstdDecoder() }
}

private func zstdCheck(_ code: Int, _ what: String) throws -> Int {
    if ZSTD_isError(code) != 0 {
        throw BackupError(.compression, "\(what): \(String(cString: ZSTD_getErrorName(code)))")
    }
    return code
}

/// Owns a `ZSTD_CCtx`, freed in `deinit`.
final class ZstdEncoder: ByteTransform {
    static let jobSize = 2 << 20
    private let context: OpaquePointer
    private let window = OutputWindow(size: ZSTD_CStreamOutSize())

    init(level: Int, threads: Int) throws {
        guard let context = ZSTD_createCCtx() else { throw BackupError(.compression, "zstd could not start") }
        self.context = context
        _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level)), "zstd level")
        if threads > 0 {
            _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(threads)),
                              "this libzstd cannot use worker threads; set zstd.threads = 0")
            // libzstd's default job is 4 windows (8 MiB at level 3), and it keeps several jobs' input and
            // output per worker: about 70 MiB with two workers. 2 MiB jobs keep that near 20 MiB.
            _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, Int32(Self.jobSize)), "zstd job size")
            // By default each job first re-reads the last eighth of the window before it as a dictionary:
            // with 2 MiB jobs that is a quarter of zstd's CPU, for no measurable gain in size on dumps.
            _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_overlapLog, 1), "zstd overlap")
        }
        _ = try zstdCheck(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "zstd checksum")
    }

    deinit { ZSTD_freeCCtx(context) }

    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        try compress(input, ZSTD_e_continue, into: &output)
    }

    func finish(into output: inout [UInt8]) throws {
        try compress(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end, into: &output)
    }

    private func compress(_ input: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective, into output: inout [UInt8]) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var remaining = 0
            let produced = try window.fill(into: &output) { buffer in
                var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                remaining = try zstdCheck(ZSTD_compressStream2(context, &target, &source, directive), "zstd failed")
                return target.pos
            }
            let done = directive == ZSTD_e_end ? remaining == 0 : source.pos == source.size && produced < window.buffer.count
            if done { return }
        }
    }
}

/// Owns a `ZSTD_DCtx`, freed in `deinit`.
final class ZstdDecoder: ByteTransform {
    private let context: OpaquePointer
    private let window = OutputWindow(size: ZSTD_DStreamOutSize())
    /// 0 once a frame is complete; a stream that ends otherwise is truncated.
    private var pending = 0
    private var sawInput = false

    init() throws {
        guard let context = ZSTD_createDCtx() else { throw BackupError(.compression, "zstd could not start") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        if input.count > 0 { sawInput = true }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            let produced = try window.fill(into: &output) { buffer in
                var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                pending = try zstdCheck(ZSTD_decompressStream(context, &target, &source), "the zstd data is corrupt")
                return target.pos
            }
            // A full window may hide more output, except when the frame just ended and was fully flushed:
            // calling again with no input would start reading a next frame's header.
            if source.pos == source.size && (produced < window.buffer.count || pending == 0) { return }
        }
    }

    func finish(into output: inout [UInt8]) throws {
        if pending != 0 || !sawInput {
            throw BackupError(.compression, "the zstd data ends early: the file is truncated")
        }
    }
}
