import Engine

/// The `zstd` stage: standard zstd frames at `level`, written and read by libzstd.
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
