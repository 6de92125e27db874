import Crypto
import _CryptoExtras

/// A passphrase: the scrypt recipient type, which must be a header's only stanza.
struct ScryptRecipient: AgeRecipient, AgeIdentity {
    static let label = Array("age-encryption.org/v1/scrypt".utf8)
    /// What a file may ask for: 2^22 is 4 GiB of memory, the most age itself accepts by default.
    static let maximumWorkFactor = 22
    let passphrase: String
    let workFactor: Int

    func wrap(_ fileKey: SymmetricKey) throws -> AgeStanza {
        let salt = AgeKeyList.randomBytes(16)
        let key = try Self.derive(passphrase, salt: salt, workFactor: workFactor)
        return AgeStanza(type: "scrypt", arguments: [AgeBase64.encode(salt), String(workFactor)],
                         body: try KeyWrap.seal(fileKey, with: key))
    }

    func unwrap(_ stanzas: [AgeStanza]) throws(AgeFailure) -> SymmetricKey? {
        for stanza in stanzas where stanza.type == "scrypt" {
            guard stanza.arguments.count == 2, let salt = AgeBase64.decode(stanza.arguments[0]), salt.count == 16 else {
                throw AgeFailure(.header, "a scrypt stanza's salt is not 16 bytes of canonical base64")
            }
            let text = stanza.arguments[1]
            guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), !text.hasPrefix("0"), let factor = Int(text),
                  (1...Self.maximumWorkFactor).contains(factor) else {
                throw AgeFailure(.header, "a scrypt stanza's work factor '\(text.prefix(8))'"
                    + " is not a whole number from 1 to \(Self.maximumWorkFactor)")
            }
            guard stanza.body.count == 32 else {
                throw AgeFailure(.header, "a scrypt stanza's wrapped file key is not 32 bytes")
            }
            let key: SymmetricKey
            do {
                key = try Self.derive(passphrase, salt: salt, workFactor: factor)
            } catch {
                throw AgeFailure(.header, "scrypt with work factor \(factor) failed (\(error));"
                    + " it needs \(1 << (factor - 10)) MiB of memory")
            }
            if let fileKey = try KeyWrap.open(stanza.body, with: key) { return fileKey }
        }
        return nil
    }

    private static func derive(_ passphrase: String, salt: [UInt8], workFactor: Int) throws -> SymmetricKey {
        try KDF.Scrypt.deriveKey(from: Array(passphrase.utf8), salt: label + salt, outputByteCount: 32,
                                 rounds: 1 << workFactor, blockSize: 8, parallelism: 1,
                                 maxMemory: 128 * 8 * (1 << workFactor) + (1 << 20))
    }
}
