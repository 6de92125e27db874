/// Why an age file could not be read, in the specification's (and its test suite's) categories.
public struct AgeFailure: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The header is malformed (or the file is not age at all, or ends inside its header).
        case header
        /// The header parsed and a key opened it, but its MAC is wrong: the header was altered.
        case hmac
        /// No identity or passphrase given opens any of the header's stanzas.
        case noMatch
        /// The encrypted payload is damaged, truncated, reordered or extended.
        case payload
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
