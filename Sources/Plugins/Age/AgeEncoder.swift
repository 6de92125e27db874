import Crypto
import Engine

/// Encrypts a stream to an age file: the header (a fresh file key wrapped for each recipient), then the
/// STREAM payload. Holds at most one chunk of plaintext.
final class AgeEncoder: ByteTransform {
    private let recipients: [any AgeRecipient]
    private var key: SymmetricKey?
    private var counter: UInt64 = 0
    private var chunk: [UInt8] = []

    init(recipients: [any AgeRecipient]) {
        self.recipients = recipients
        chunk.reserveCapacity(AgeStream.chunkSize)
    }

    /// Writes the header and the payload nonce once, before the first chunk.
    private func start(into output: inout [UInt8]) throws {
        guard key == nil else { return }
        let fileKey = SymmetricKey(size: .bits128)
        let stanzas = try recipients.map { try $0.wrap(fileKey) }
        output += AgeHeader.encode(stanzas, fileKey: fileKey)
        let nonce = AgeKeyList.randomBytes(AgeStream.nonceSize)
        output += nonce
        key = AgeStream.payloadKey(fileKey: fileKey, nonce: nonce)
    }

    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        try start(into: &output)
        var offset = 0
        while offset < input.count {
            // A full chunk is sealed only once more input shows it is not the last.
            if chunk.count == AgeStream.chunkSize { try seal(last: false, into: &output) }
            let take = min(AgeStream.chunkSize - chunk.count, input.count - offset)
            chunk.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[offset..<(offset + take)]))
            offset += take
        }
    }

    func finish(into output: inout [UInt8]) throws {
        try start(into: &output)
        try seal(last: true, into: &output)
    }

    private func seal(last: Bool, into output: inout [UInt8]) throws {
        let box = try ChaChaPoly.seal(chunk, using: key!, nonce: AgeStream.nonce(counter, last: last))
        output += box.ciphertext
        output += box.tag
        counter += 1
        chunk.removeAll(keepingCapacity: true)
    }
}
