import Crypto
import _CryptoExtras
import Foundation

/// Wraps a file key into a stanza: what a recipient (a public key or a passphrase) does when encrypting.
protocol AgeRecipient: Sendable {
    func wrap(_ fileKey: SymmetricKey) throws -> AgeStanza
}

/// Unwraps a file key from the stanzas of a header: nil when none is for this identity; throws `.header`
/// when a stanza of its type is malformed.
protocol AgeIdentity: Sendable {
    func unwrap(_ stanzas: [AgeStanza]) throws(AgeFailure) -> SymmetricKey?
}

/// ChaCha20-Poly1305 with the all-zero nonce, as age wraps a 16-byte file key (once per key derived).
private enum KeyWrap {
    static func seal(_ fileKey: SymmetricKey, with key: SymmetricKey) throws -> [UInt8] {
        let box = try ChaChaPoly.seal(fileKey.withUnsafeBytes { Array($0) }, using: key, nonce: try ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)))
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

/// An `age1…` public key: the X25519 recipient type.
struct X25519Recipient: AgeRecipient, Equatable {
    static let label = Array("age-encryption.org/v1/X25519".utf8)
    static let lowOrder = "is a low-order X25519 point (such as the all-zero key): anything encrypted to it can be read with public values alone; use a key from `backup keygen` or age-keygen"
    let publicKey: [UInt8]

    /// Parses `age1…`; nil when it is not one.
    init?(_ text: String) {
        guard let (hrp, data) = Bech32.decode(text), hrp == "age", data.count == 32, text == text.lowercased() else { return nil }
        publicKey = data
    }

    init(publicKey: [UInt8]) { self.publicKey = publicKey }

    var encoded: String { Bech32.encode(hrp: "age", data: publicKey) }

    /// False for a low-order point (the all-zero key among them): every key agreement with it gives the
    /// all-zero secret, so anyone could unwrap what is encrypted to it. age refuses such recipients.
    var isUsable: Bool {
        let probe = Curve25519.KeyAgreement.PrivateKey()
        guard let secret = try? probe.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: publicKey)) else { return false }
        return secret.withUnsafeBytes { $0.contains { $0 != 0 } }
    }

    func wrap(_ fileKey: SymmetricKey) throws -> AgeStanza {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let share = Array(ephemeral.publicKey.rawRepresentation)
        let secret = try ephemeral.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: publicKey))
        // Checked at config load too; here as well, so no path can wrap a file key with public values only.
        guard secret.withUnsafeBytes({ $0.contains { $0 != 0 } }) else { throw AgeFailure(.header, "the recipient " + Self.lowOrder) }
        let key = secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: share + publicKey, sharedInfo: Self.label, outputByteCount: 32)
        return AgeStanza(type: "X25519", arguments: [AgeBase64.encode(share)], body: try KeyWrap.seal(fileKey, with: key))
    }
}

/// An `AGE-SECRET-KEY-1…` identity.
struct X25519Identity: AgeIdentity {
    /// The scalar's bytes: swift-crypto's key type is not `Sendable`, so it is made where it is used.
    let secret: [UInt8]
    var privateKey: Curve25519.KeyAgreement.PrivateKey { try! .init(rawRepresentation: secret) }  // 32 bytes, checked at init

    init?(_ text: String) {
        guard let (hrp, data) = Bech32.decode(text), hrp == "age-secret-key-", data.count == 32,
              (try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: data)) != nil else { return nil }
        secret = data
        // A clamped scalar never gives a low-order public key; checked so that no identity is taken whose
        // recipient a configuration would refuse.
        guard recipient.isUsable else { return nil }
    }

    init(generating: Void = ()) { secret = Array(Curve25519.KeyAgreement.PrivateKey().rawRepresentation) }

    var recipient: X25519Recipient { X25519Recipient(publicKey: Array(privateKey.publicKey.rawRepresentation)) }
    var encoded: String { Bech32.encode(hrp: "age-secret-key-", data: Array(privateKey.rawRepresentation)).uppercased() }

    func unwrap(_ stanzas: [AgeStanza]) throws(AgeFailure) -> SymmetricKey? {
        let ours = recipient.publicKey
        let privateKey = self.privateKey
        for stanza in stanzas where stanza.type == "X25519" {
            guard stanza.arguments.count == 1, let share = AgeBase64.decode(stanza.arguments[0]), share.count == 32 else {
                throw AgeFailure(.header, "an X25519 stanza's share is not 32 bytes of canonical base64")
            }
            guard stanza.body.count == 32 else { throw AgeFailure(.header, "an X25519 stanza's wrapped file key is not 32 bytes") }
            let secret: SharedSecret
            do {
                secret = try privateKey.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: share))
            } catch {
                throw AgeFailure(.header, "an X25519 stanza's share is a low-order point")
            }
            // BoringSSL refuses an all-zero result itself; checked again so no backend can let it through.
            guard secret.withUnsafeBytes({ $0.contains { $0 != 0 } }) else {
                throw AgeFailure(.header, "an X25519 stanza's share is a low-order point")
            }
            let key = secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: share + ours, sharedInfo: X25519Recipient.label, outputByteCount: 32)
            if let fileKey = try KeyWrap.open(stanza.body, with: key) { return fileKey }
        }
        return nil
    }
}

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
        return AgeStanza(type: "scrypt", arguments: [AgeBase64.encode(salt), String(workFactor)], body: try KeyWrap.seal(fileKey, with: key))
    }

    func unwrap(_ stanzas: [AgeStanza]) throws(AgeFailure) -> SymmetricKey? {
        for stanza in stanzas where stanza.type == "scrypt" {
            guard stanza.arguments.count == 2, let salt = AgeBase64.decode(stanza.arguments[0]), salt.count == 16 else {
                throw AgeFailure(.header, "a scrypt stanza's salt is not 16 bytes of canonical base64")
            }
            let text = stanza.arguments[1]
            guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), !text.hasPrefix("0"), let factor = Int(text),
                  (1...Self.maximumWorkFactor).contains(factor) else {
                throw AgeFailure(.header, "a scrypt stanza's work factor '\(text.prefix(8))' is not a whole number from 1 to \(Self.maximumWorkFactor)")
            }
            guard stanza.body.count == 32 else { throw AgeFailure(.header, "a scrypt stanza's wrapped file key is not 32 bytes") }
            let key: SymmetricKey
            do {
                key = try Self.derive(passphrase, salt: salt, workFactor: factor)
            } catch {
                throw AgeFailure(.header, "scrypt with work factor \(factor) failed (\(error)); it needs \(1 << (factor - 10)) MiB of memory")
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

/// Key lists as people write them: separated by commas, spaces or lines, `#` starting a comment.
enum AgeKeyList {
    /// An entry of an identity list that is not an identity, named by position only: it may be a secret.
    struct BadIdentity: Error, CustomStringConvertible {
        let number: Int
        var description: String { "entry \(number) is not an AGE-SECRET-KEY-1… identity (as age-keygen or `backup keygen` writes)" }
    }

    /// The identities in `text` (an identity file, or the `identity` setting).
    static func identities(_ text: String) throws(BadIdentity) -> [X25519Identity] {
        var identities: [X25519Identity] = []
        for (index, token) in tokens(text).enumerated() {
            guard let identity = X25519Identity(token) else { throw BadIdentity(number: index + 1) }
            identities.append(identity)
        }
        return identities
    }

    /// `count` bytes from the system's secure generator: salts and nonces.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func tokens(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).flatMap { line -> [String] in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return content.split { $0 == "," || $0 == " " || $0 == "\t" }.map(String.init)
        }
    }
}
