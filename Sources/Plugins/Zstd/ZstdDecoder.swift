import CZstd
import Engine
import PluginSupport

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
