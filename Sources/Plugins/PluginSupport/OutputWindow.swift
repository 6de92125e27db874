/// A fixed output window that a C library writes into; what it produced is then appended to the output.
/// Reused for the life of a transform, so no allocation or zero-filling happens per chunk.
package final class OutputWindow {
    package let buffer: UnsafeMutableBufferPointer<UInt8>

    package init(size: Int) { buffer = .allocate(capacity: size) }
    deinit { buffer.deallocate() }

    /// Lets `body` fill the window and return how many bytes it produced; appends those to `output`.
    package func fill(into output: inout [UInt8],
                      _ body: (UnsafeMutableBufferPointer<UInt8>) throws -> Int) rethrows -> Int {
        let produced = try body(buffer)
        output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<produced]))
        return produced
    }
}
