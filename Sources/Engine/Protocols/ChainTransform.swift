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
    private func pass(
        _ input: UnsafeRawBufferPointer, from index: Int, into output: inout [UInt8], finishing: Bool
    ) throws {
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
