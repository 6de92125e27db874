/// A streaming transformation of bytes: a compressor's encoder or decoder.
///
/// Implementation requirements:
/// - `update` appends to `output` whatever output `input` makes available; it may keep input buffered.
/// - `finish` appends everything still buffered and ends the stream; nothing is called after it.
/// - A decoder throws `BackupError(.compression, …)` on corrupt or truncated input, at the latest in `finish`.
/// - Instances are used by one task at a time; C state lives in the instance and is freed in `deinit`.
public protocol ByteTransform: AnyObject {
    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws
    func finish(into output: inout [UInt8]) throws
}

/// Compresses backups in-process.
///
/// Implementation requirements:
/// - `makeEncoder` output is a standard stream that the usual system tool for `fileExtension` reads
///   (`gunzip` for `gz`, `zstd -d` for `zst`); `makeDecoder` reads what that tool writes.
/// - `fileExtension` is nil when the compressor stores bytes unchanged.
public protocol Compressor: Sendable {
    var name: String { get }
    /// The compression level recorded in the manifest, nil when the compressor has none.
    var level: Int? { get }
    var fileExtension: String? { get }
    func makeEncoder() throws -> any ByteTransform
    func makeDecoder() throws -> any ByteTransform
}

/// Makes a ``Compressor`` from its settings.
public protocol CompressorFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any Compressor
}

extension ByteTransform {
    /// Transforms a whole buffer at once; convenient for small data and tests.
    public func transformAll(_ input: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        try input.withUnsafeBytes { try update($0, into: &output) }
        try finish(into: &output)
        return output
    }
}
