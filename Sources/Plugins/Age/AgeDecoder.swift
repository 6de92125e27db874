import Crypto
import Engine
import Foundation

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
            if finishing {
                throw AgeFailure(.header, buffer.isEmpty ? "the file is empty" : "the file ends inside its age header")
            }
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
            throw AgeFailure(.payload, counter == 0 && sealed.isEmpty
                ? "the encrypted payload is missing" : "the encrypted payload is truncated")
        }
        let ciphertext = sealed.dropLast(AgeStream.tagSize)
        // An empty last chunk is only valid as the whole (empty) payload.
        if last && ciphertext.isEmpty && counter > 0 {
            throw AgeFailure(.payload, "the encrypted payload ends with an empty chunk")
        }
        func attempt(last: Bool) -> Data? {
            guard let box = try? ChaChaPoly.SealedBox(nonce: AgeStream.nonce(counter, last: last),
                                                      ciphertext: ciphertext,
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
