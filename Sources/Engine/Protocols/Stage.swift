/// One link of the chain of byte stages between a source and its destinations: a compressor, an
/// encryption. A job applies its stages in order when it backs up; a restore applies their decoders
/// in reverse order, built from what the manifest recorded (``StageRecord``), not from the job's settings.
///
/// Implementation requirements:
/// - `makeEncoder` output is a standard stream that the usual system tool for `fileExtension` reads;
///   `makeDecoder` reads what that tool writes.
/// - `fileExtension` is nil when the stage stores bytes unchanged, and then `passesBytesThrough` is true.
/// - What the manifest records of the stage (`name`, `level`, `parameters`: its ``StageRecord``) holds
///   everything `makeDecoder(for:)` needs besides secrets the restore supplies itself.
public protocol Stage: Sendable {
    var name: String { get }
    var fileExtension: String? { get }
    /// True when the stored bytes are the source's own, so a restore may read a stored file directly.
    var passesBytesThrough: Bool { get }
    /// The level recorded in the manifest, nil when the stage has none.
    var level: Int? { get }
    /// Further parameters recorded in the manifest (e.g. an encryption's recipients); never a secret.
    var parameters: [String: String] { get }
    func makeEncoder() throws -> any ByteTransform
    /// A decoder for what a stage of this plugin wrote, as its manifest entry describes it.
    func makeDecoder(for record: StageRecord) throws -> any ByteTransform
}

extension Stage {
    public var passesBytesThrough: Bool { false }
    public var level: Int? { nil }
    public var parameters: [String: String] { [:] }
}
