import Crypto

/// Wraps a file key into a stanza: what a recipient (a public key or a passphrase) does when encrypting.
protocol AgeRecipient: Sendable {
    func wrap(_ fileKey: SymmetricKey) throws -> AgeStanza
}
