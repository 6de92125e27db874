import Engine

/// What `backup keygen` prints: a new identity and its recipient, as age-keygen makes them.
public enum AgeKeys {
    /// A new X25519 identity (`AGE-SECRET-KEY-1…`) and its recipient (`age1…`).
    public static func generate() -> (identity: String, recipient: String) {
        let identity = X25519Identity()
        return (identity.encoded, identity.recipient.encoded)
    }

    /// The recipient of each identity in `text` (an identity file: one per line, `#` comments), in order.
    public static func recipients(ofIdentities text: String) throws -> [String] {
        do {
            return try AgeKeyList.identities(text).map(\.recipient.encoded)
        } catch {
            throw BackupError(.config, "\(error)")
        }
    }
}
