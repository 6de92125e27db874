import Crypto

/// An `age1…` public key: the X25519 recipient type.
struct X25519Recipient: AgeRecipient, Equatable {
    static let label = Array("age-encryption.org/v1/X25519".utf8)
    static let lowOrder = "is a low-order X25519 point (such as the all-zero key):"
        + " anything encrypted to it can be read with public values alone; use a key from `backup keygen` or age-keygen"
    let publicKey: [UInt8]

    /// Parses `age1…`; nil when it is not one.
    init?(_ text: String) {
        guard let (hrp, data) = Bech32.decode(text), hrp == "age", data.count == 32, text == text.lowercased() else {
            return nil
        }
        publicKey = data
    }

    init(publicKey: [UInt8]) { self.publicKey = publicKey }

    var encoded: String { Bech32.encode(hrp: "age", data: publicKey) }

    /// False for a low-order point (the all-zero key among them): every key agreement with it gives the
    /// all-zero secret, so anyone could unwrap what is encrypted to it. age refuses such recipients.
    var isUsable: Bool {
        let probe = Curve25519.KeyAgreement.PrivateKey()
        guard let secret = try? probe.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: publicKey)) else {
            return false
        }
        return secret.withUnsafeBytes { $0.contains { $0 != 0 } }
    }

    func wrap(_ fileKey: SymmetricKey) throws -> AgeStanza {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let share = Array(ephemeral.publicKey.rawRepresentation)
        let secret = try ephemeral.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: publicKey))
        // Checked at config load too; here as well, so no path can wrap a file key with public values only.
        guard secret.withUnsafeBytes({ $0.contains { $0 != 0 } }) else {
            throw AgeFailure(.header, "the recipient " + Self.lowOrder)
        }
        let key = secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: share + publicKey, sharedInfo: Self.label,
                                                 outputByteCount: 32)
        return AgeStanza(type: "X25519", arguments: [AgeBase64.encode(share)],
                         body: try KeyWrap.seal(fileKey, with: key))
    }
}
