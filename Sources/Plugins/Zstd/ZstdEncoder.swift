import CZstd
import Engine
import PluginSupport

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

    private func compress(_ input: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective,
                          into output: inout [UInt8]) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var remaining = 0
            let produced = try window.fill(into: &output) { buffer in
                var target = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                remaining = try zstdCheck(ZSTD_compressStream2(context, &target, &source, directive), "zstd failed")
                return target.pos
            }
            let done = directive == ZSTD_e_end
                ? remaining == 0
                : source.pos == source.size && produced < window.buffer.count
            if done { return }
        }
    }
}
