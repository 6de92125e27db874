import Crypto

/// ChaCha20-Poly1305 with the all-zero nonce, as age wraps a 16-byte file key (once per key derived).
enum KeyWrap {
    static func seal(_ fileKey: SymmetricKey, with key: SymmetricKey) throws -> [UInt8] {
        let box = try ChaChaPoly.seal(fileKey.withUnsafeBytes { Array($0) }, using: key,
                                      nonce: try ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)))
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// nil when the tag does not match (another recipient's stanza, or a wrong passphrase).
    static func open(_ body: [UInt8], with key: SymmetricKey) throws(AgeFailure) -> SymmetricKey? {
        guard body.count == 32 else { throw AgeFailure(.header, "an age stanza's wrapped file key is not 32 bytes") }
        do {
            let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)),
                                               ciphertext: body[..<16], tag: body[16...])
            return SymmetricKey(data: try ChaChaPoly.open(box, using: key))
        } catch {
            return nil
        }
    }
}
