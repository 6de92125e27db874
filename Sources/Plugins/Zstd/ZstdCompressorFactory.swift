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
                summary: "libzstd worker threads"
                    + " (default: the cores this process may use; 0: compress on the calling thread)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Compressor {
        ZstdCompressor(level: try settings.integer(required: "level"),
                       threads: try settings.integer(required: "threads"))
    }
}
