import Engine

/// `none`: stores the dump as pg_dump wrote it, e.g. when the storage compresses or dedupes by itself.
public struct NoneCompressorFactory: CompressorFactory {
    public init() {}
    public let name = "none"
    public let summary = "no compression"
    public let keys: [KeySpec] = []

    public func make(_ settings: PluginSettings) throws -> any Compressor { NoneCompressor() }
}
