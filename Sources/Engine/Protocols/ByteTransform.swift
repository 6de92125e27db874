/// A streaming transformation of bytes: a stage's encoder or decoder.
///
/// Implementation requirements:
/// - `update` appends to `output` whatever output `input` makes available; it may keep input buffered.
/// - `finish` appends everything still buffered and ends the stream; nothing is called after it.
/// - A decoder throws `BackupError(.compression, …)` (or the stage's own kind) on corrupt or truncated
///   input, at the latest in `finish`.
/// - Instances are used by one task at a time; C state lives in the instance and is freed in `deinit`.
public protocol ByteTransform: AnyObject {
    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws
    func finish(into output: inout [UInt8]) throws
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
