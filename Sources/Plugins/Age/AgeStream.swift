import Crypto
import Engine
import Foundation

/// age's payload: a 16-byte nonce, then the plaintext in 64 KiB chunks, each sealed with ChaCha20-Poly1305
/// under a key derived from the file key and the nonce, with a nonce of an 11-byte counter and a flag that
/// marks the last chunk, so truncation, reordering and appended data are all detected.
enum AgeStream {
    static let chunkSize = 64 * 1024
    static let tagSize = 16
    static let nonceSize = 16

    static func payloadKey(fileKey: SymmetricKey, nonce: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: nonce, info: Array("payload".utf8), outputByteCount: 32)
    }

    static func nonce(_ counter: UInt64, last: Bool) -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[10 - index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index))) }
        bytes[11] = last ? 1 : 0
        return try! ChaChaPoly.Nonce(data: bytes)  // 12 bytes is ChaCha20-Poly1305's nonce size
    }
}

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

/// Decrypts an age file as it streams: parses the header, opens it with the first identity that can, checks
/// its MAC, then releases each chunk's plaintext only once its tag is proven.
final class AgeDecoder: ByteTransform {
    private let identities: [any AgeIdentity]
    /// Says what went wrong when no identity opens the file (e.g. which recipients it was made for).
    private let noMatch: String
    private var buffer: [UInt8] = []
    private var consumed = 0
    private var key: SymmetricKey?
    private var counter: UInt64 = 0
    private var ended = false

    init(identities: [any AgeIdentity], noMatch: String) {
        self.identities = identities
        self.noMatch = noMatch
    }

    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        buffer += input
        try drain(into: &output, finishing: false)
    }

    func finish(into output: inout [UInt8]) throws {
        try drain(into: &output, finishing: true)
    }

    private func drain(into output: inout [UInt8], finishing: Bool) throws {
        do {
            try decrypt(into: &output, finishing: finishing)
        } catch {
            throw BackupError(.decryption, "cannot decrypt the backup", cause: error)
        }
    }

    private func decrypt(into output: inout [UInt8], finishing: Bool) throws(AgeFailure) {
        if key == nil {
            guard try readHeader(finishing: finishing) else { return }
        }
        let sealed = AgeStream.chunkSize + AgeStream.tagSize
        while true {
            let remaining = buffer.count - consumed
            // A chunk is the last one when nothing follows it; so a full chunk waits for one more byte.
            if remaining > sealed {
                try open(buffer[consumed..<(consumed + sealed)], last: false, into: &output)
                consumed += sealed
                continue
            }
            if finishing && !(ended && remaining == 0) {
                try open(buffer[consumed...], last: true, into: &output)
                consumed = buffer.count
            }
            break
        }
        if consumed > 0 {
            buffer.removeFirst(consumed)
            consumed = 0
        }
    }

    /// Parses the header and nonce once both are buffered; false while they are incomplete.
    private func readHeader(finishing: Bool) throws(AgeFailure) -> Bool {
        guard let (header, length) = try AgeHeader.parse(buffer[...]) else {
            if finishing { throw AgeFailure(.header, buffer.isEmpty ? "the file is empty" : "the file ends inside its age header") }
            return false
        }
        if header.stanzas.contains(where: { $0.type == "scrypt" }) && header.stanzas.count != 1 {
            throw AgeFailure(.header, "a scrypt stanza must be the only one in an age header")
        }
        guard buffer.count >= length + AgeStream.nonceSize else {
            if finishing { throw AgeFailure(.header, "the file ends before its payload nonce") }
            return false
        }
        var fileKey: SymmetricKey?
        for identity in identities {
            if let found = try identity.unwrap(header.stanzas) {
                fileKey = found
                break
            }
        }
        guard let fileKey else { throw AgeFailure(.noMatch, noMatch) }
        guard fileKey.bitCount == 128 else { throw AgeFailure(.header, "the file key is not 16 bytes") }
        try header.checkMAC(fileKey: fileKey)
        key = AgeStream.payloadKey(fileKey: fileKey, nonce: Array(buffer[length..<(length + AgeStream.nonceSize)]))
        consumed = length + AgeStream.nonceSize
        return true
    }

    /// Opens one sealed chunk; `last` when nothing follows it.
    private func open(_ sealed: ArraySlice<UInt8>, last: Bool, into output: inout [UInt8]) throws(AgeFailure) {
        if ended { throw AgeFailure(.payload, "data follows the last chunk of the encrypted payload") }
        guard sealed.count >= AgeStream.tagSize else {
            throw AgeFailure(.payload, counter == 0 && sealed.isEmpty ? "the encrypted payload is missing" : "the encrypted payload is truncated")
        }
        let ciphertext = sealed.dropLast(AgeStream.tagSize)
        // An empty last chunk is only valid as the whole (empty) payload.
        if last && ciphertext.isEmpty && counter > 0 { throw AgeFailure(.payload, "the encrypted payload ends with an empty chunk") }
        func attempt(last: Bool) -> Data? {
            guard let box = try? ChaChaPoly.SealedBox(nonce: AgeStream.nonce(counter, last: last), ciphertext: ciphertext,
                                                      tag: sealed.suffix(AgeStream.tagSize)) else { return nil }
            return try? ChaChaPoly.open(box, using: key!)
        }
        if let plain = attempt(last: last) {
            output += plain
            counter += 1
            ended = last
            return
        }
        // A full chunk may open with the other flag: as a middle chunk with nothing after it (the real last
        // chunk was cut off), or as the last chunk with more after it (data appended). Its plaintext is
        // authentic, so it is released, as age does, and the failure follows.
        if ciphertext.count == AgeStream.chunkSize, let plain = attempt(last: !last) {
            output += plain
            counter += 1
            if last { throw AgeFailure(.payload, "the encrypted payload is truncated: its last chunk is missing") }
            ended = true
            return
        }
        throw AgeFailure(.payload, last
            ? "the last chunk (\(counter + 1)) does not authenticate: the file is damaged or truncated"
            : "chunk \(counter + 1) does not authenticate: the file is damaged")
    }
}
