import Engine

public struct NoneCompressor: Compressor {
    public init() {}
    public var name: String { "none" }
    public var level: Int? { nil }
    public var fileExtension: String? { nil }
    public var passesBytesThrough: Bool { true }
    public func makeEncoder() throws -> any ByteTransform { PassThrough() }
    public func makeDecoder(for record: StageRecord) throws -> any ByteTransform { PassThrough() }
}
