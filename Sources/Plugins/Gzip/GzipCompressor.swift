import Engine

/// The `gzip` stage: one standard gzip stream at `level`, written by libdeflate and read by zlib.
public struct GzipCompressor: Compressor {
    public let level: Int?
    /// Threads compressing blocks in parallel (``ParallelGzipEncoder``); the output is one standard gzip
    /// stream whatever their number.
    public let threads: Int
    public var name: String { "gzip" }
    public var fileExtension: String? { "gz" }

    public init(level: Int = 6, threads: Int = 1) {
        self.level = level
        self.threads = threads
    }

    public func makeEncoder() throws -> any ByteTransform {
        try ParallelGzipEncoder(level: level ?? 6, threads: threads)
    }
    public func makeDecoder(for record: StageRecord) throws -> any ByteTransform { try GzipDecoder() }
}
