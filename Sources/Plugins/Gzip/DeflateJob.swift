/// A block for a ``DeflatePool`` worker: the `index`-th of the stream, `last` when nothing follows it.
struct DeflateJob: Sendable {
    var index: Int
    var input: [UInt8]
    var last: Bool
}
