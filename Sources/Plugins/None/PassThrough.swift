import Engine

/// The `none` stage's encoder and decoder alike: its output is its input.
final class PassThrough: ByteTransform {
    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        output.append(contentsOf: input)
    }

    func finish(into output: inout [UInt8]) throws {}
}
