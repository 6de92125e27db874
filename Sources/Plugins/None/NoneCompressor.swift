import Engine

/// `none`: stores the dump as pg_dump wrote it, e.g. when the storage compresses or dedupes by itself.
public struct NoneCompressorFactory: CompressorFactory {
    public init() {}
    public let name = "none"
    public let summary = "no compression"
    public let keys: [KeySpec] = []

    public func make(_ settings: PluginSettings) throws -> any Compressor { NoneCompressor() }
}

public struct NoneCompressor: Compressor {
    public init() {}
    public var name: String { "none" }
    public var level: Int? { nil }
    public var fileExtension: String? { nil }
    public var passesBytesThrough: Bool { true }
    public func makeEncoder() throws -> any ByteTransform { PassThrough() }
    public func makeDecoder(for record: StageRecord) throws -> any ByteTransform { PassThrough() }
}

final class PassThrough: ByteTransform {
    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        output.append(contentsOf: input)
    }

    func finish(into output: inout [UInt8]) throws {}
}
