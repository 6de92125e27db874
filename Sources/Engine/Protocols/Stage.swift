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

/// One link of the chain of byte stages between a source and its destinations: a compressor, an
/// encryption. A job applies its stages in order when it backs up; a restore applies their decoders
/// in reverse order, built from what the manifest recorded (``StageRecord``), not from the job's settings.
///
/// Implementation requirements:
/// - `makeEncoder` output is a standard stream that the usual system tool for `fileExtension` reads;
///   `makeDecoder` reads what that tool writes.
/// - `fileExtension` is nil when the stage stores bytes unchanged, and then `passesBytesThrough` is true.
/// - `record` holds everything `makeDecoder(for:)` needs besides secrets the restore supplies itself.
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

/// A stage that makes backups smaller (the `compressor` role).
public protocol Compressor: Stage {}

/// Makes a ``Compressor`` from its settings.
public protocol CompressorFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any Compressor
}

/// A stage that makes backups unreadable without a key (the `encryption` role).
///
/// Implementation requirements:
/// - The encoder needs no secret a backup pod should not hold (public keys), where the format allows it.
/// - `makeDecoder` throws ``BackupError/Code/decryption`` naming the setting to supply when the stage holds
///   no key that opens the backup, and on any damaged, truncated or reordered input.
/// - `parameters` names the keys a backup was encrypted to, never a secret.
public protocol Encryption: Stage {}

/// Makes an ``Encryption`` from its settings.
public protocol EncryptionFactory: PluginFactory {
    /// For a job that encrypts: the settings must say whom to encrypt to.
    func make(_ settings: PluginSettings) throws -> any Encryption
    /// For reading a backup (restore, verify) with whatever keys `settings` hold, even when the job does
    /// not encrypt (any longer).
    func makeForReading(_ settings: PluginSettings) throws -> any Encryption
}

/// One stage as the manifest records it: its role, plugin, level and parameters, in the order applied.
public struct StageRecord: Codable, Sendable, Equatable {
    /// The role (``PluginKind`` raw value), e.g. `compressor`.
    public var kind: String
    public var name: String
    public var level: Int?
    public var parameters: [String: String]?

    public init(kind: String, name: String, level: Int? = nil, parameters: [String: String]? = nil) {
        self.kind = kind
        self.name = name
        self.level = level
        self.parameters = parameters
    }

    public init(_ stage: any Stage, kind: PluginKind) {
        self.init(kind: kind.rawValue, name: stage.name, level: stage.level,
                  parameters: stage.parameters.isEmpty ? nil : stage.parameters)
    }
}

/// Runs transforms one after another as one transform: the encoders of a chain, or its decoders reversed.
public final class ChainTransform: ByteTransform {
    private let links: [any ByteTransform]
    private var buffers: [[UInt8]]

    /// A chain of one is that transform itself; build chains with ``chain(_:)``.
    private init(_ links: [any ByteTransform]) {
        self.links = links
        buffers = Array(repeating: [], count: links.count - 1)
    }

    /// `links` applied in order; a single link is returned as it is, so one stage costs nothing extra.
    public static func chain(_ links: [any ByteTransform]) -> any ByteTransform {
        links.count == 1 ? links[0] : ChainTransform(links.isEmpty ? [Identity()] : links)
    }

    public func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        try pass(input, from: 0, into: &output, finishing: false)
    }

    public func finish(into output: inout [UInt8]) throws {
        try pass(UnsafeRawBufferPointer(start: nil, count: 0), from: 0, into: &output, finishing: true)
    }

    /// Feeds `input` to link `index` and what it produces on through the rest of the chain.
    private func pass(_ input: UnsafeRawBufferPointer, from index: Int, into output: inout [UInt8], finishing: Bool) throws {
        if index == links.count - 1 {
            try links[index].update(input, into: &output)
            if finishing { try links[index].finish(into: &output) }
            return
        }
        var produced: [UInt8] = []
        swap(&produced, &buffers[index])  // keeps the buffer's capacity without a copy
        produced.removeAll(keepingCapacity: true)
        try links[index].update(input, into: &produced)
        if finishing { try links[index].finish(into: &produced) }
        try produced.withUnsafeBytes { try pass($0, from: index + 1, into: &output, finishing: finishing) }
        buffers[index] = produced
    }

    /// Passes bytes on unchanged: the chain of no stages.
    private final class Identity: ByteTransform {
        func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) { output.append(contentsOf: input) }
        func finish(into output: inout [UInt8]) {}
    }
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
