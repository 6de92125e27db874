import Engine
import PluginSupport

/// `gzip`: standard gzip streams, in-process: written by libdeflate in parallel blocks, read by zlib.
/// Reads multi-member files as `gunzip` does.
public struct GzipCompressorFactory: CompressorFactory {
    public init() {}
    public let name = "gzip"
    public let summary = "gzip (libdeflate, read with zlib), readable by gunzip"
    public let keys = [
        KeySpec("level", .integer(1...9), default: "6", summary: "compression level, 1 (fast) to 9 (small)"),
        KeySpec("threads", .integer(1...256), default: String(CPUCount.available),
                summary: "threads compressing 1 MiB blocks in parallel, pigz-style"
                    + " (default: the cores this process may use)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Compressor {
        GzipCompressor(level: try settings.integer(required: "level"),
                       threads: try settings.integer(required: "threads"))
    }
}
