import CZlib

/// A compressed block, with the CRC-32 and length of its input for the gzip trailer.
struct DeflateResult: Sendable {
    var output: [UInt8]
    var crc: uLong
    var inputCount: Int
}
