import Crypto

/// An `AGE-SECRET-KEY-1…` identity.
struct X25519Identity: AgeIdentity {
    /// The scalar's bytes: swift-crypto's key type is not `Sendable`, so it is made where it is used.
    let secret: [UInt8]
    var privateKey: Curve25519.KeyAgreement.PrivateKey {
        try! .init(rawRepresentation: secret)  // 32 bytes, checked at init
    }

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
    var encoded: String {
        Bech32.encode(hrp: "age-secret-key-", data: Array(privateKey.rawRepresentation)).uppercased()
    }

    func unwrap(_ stanzas: [AgeStanza]) throws(AgeFailure) -> SymmetricKey? {
        let ours = recipient.publicKey
        let privateKey = self.privateKey
        for stanza in stanzas where stanza.type == "X25519" {
            guard stanza.arguments.count == 1, let share = AgeBase64.decode(stanza.arguments[0]),
                  share.count == 32 else {
                throw AgeFailure(.header, "an X25519 stanza's share is not 32 bytes of canonical base64")
            }
            guard stanza.body.count == 32 else {
                throw AgeFailure(.header, "an X25519 stanza's wrapped file key is not 32 bytes")
            }
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
            let key = secret.hkdfDerivedSymmetricKey(using: SHA256.self, salt: share + ours,
                                                     sharedInfo: X25519Recipient.label, outputByteCount: 32)
            if let fileKey = try KeyWrap.open(stanza.body, with: key) { return fileKey }
        }
        return nil
    }
}
