import Engine

/// `age`: encrypts each backup to age's format (age-encryption.org/v1), for X25519 public keys (`age1…`)
/// or a passphrase, so a pod holding only recipients cannot read what it wrote. Debian's `age -d` reads the
/// files; restore and verify read them with an identity (`AGE-SECRET-KEY-1…`) or the passphrase.
///
/// The format is written here against its specification (and tested with its published vectors): no
/// available Swift library implements it; the primitives (X25519, HKDF, HMAC, ChaCha20-Poly1305, scrypt)
/// are swift-crypto's.
public struct AgeEncryptionFactory: EncryptionFactory {
    public init() {}
    public let name = "age"
    public let summary = "age encryption to public keys (age1…) or a passphrase, readable by age -d"
    public let keys = [
        KeySpec("recipients", .string,
                summary: "age1… public keys to encrypt to, separated by commas or lines"
                    + " (age.recipients_file: one per line, # comments)"),
        KeySpec("passphrase", .string, secret: true,
                summary: "encrypt (and decrypt) with this passphrase instead of recipients"
                    + " (prefer age.passphrase_file)"),
        // Writing stops at 20 (1 GiB per backup and per restore); reading accepts up to age's own 22.
        KeySpec("work_factor", .integer(10...20), default: "18",
                summary: "scrypt work factor (log2) of a passphrase: 18 needs 256 MiB for about a second, as age -p;"
                    + " each step doubles both, up to 20"),
        KeySpec("identity", .string, secret: true,
                summary: "AGE-SECRET-KEY-1… lines that decrypt, for restore and verify only"
                    + " (age.identity_file, from a Secret the backup pod does not mount)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Encryption {
        let stage = try AgeEncryption(settings)
        // Only for writing: a reader may hold a passphrase (for older backups) beside today's recipients.
        if stage.passphrase != nil && !stage.recipients.isEmpty {
            throw SettingError(key: "passphrase", message: "set either age.recipients or age.passphrase:"
                + " age allows a passphrase only as a file's sole recipient")
        }
        guard !stage.recipients.isEmpty || stage.passphrase != nil else {
            throw SettingError(key: "recipients", message: "missing; age needs age1… public keys to encrypt to"
                + " (age.recipients or age.recipients_file), or age.passphrase_file; `backup keygen` makes a key pair")
        }
        return stage
    }

    public func makeForReading(_ settings: PluginSettings) throws -> any Encryption {
        try AgeEncryption(settings)
    }
}
