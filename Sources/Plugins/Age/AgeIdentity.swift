import Crypto

/// Unwraps a file key from the stanzas of a header: nil when none is for this identity; throws `.header`
/// when a stanza of its type is malformed.
protocol AgeIdentity: Sendable {
    func unwrap(_ stanzas: [AgeStanza]) throws(AgeFailure) -> SymmetricKey?
}
