import ArgumentParser
import Engine

/// The keys that decrypt backups, for the commands that read them (restore, verify): given here, they
/// replace the config's `age.identity_file` and `age.passphrase_file`, so the backup pod's config needs
/// no secret key and a restore Job mounts one.
struct KeyOptions: ParsableArguments {
    @Option(name: .long, help: """
        age identity file (AGE-SECRET-KEY-1… lines, as `backup keygen` or age-keygen writes it) that decrypts \
        encrypted backups (default: the config's age.identity_file).
        """)
    var identity: String?

    @Option(name: .long, help: """
        File holding the passphrase of backups encrypted with age.passphrase (default: the config's \
        age.passphrase_file).
        """)
    var passphraseFile: String?

    /// The settings these options replace: a job that sets one holds a key that reads its backups.
    static let keys = ["age.identity_file", "age.passphrase_file"]

    var overrides: [ConfigEntry] {
        var entries: [ConfigEntry] = []
        if let identity {
            entries.append(ConfigEntry(key: "age.identity_file", value: identity, file: "--identity", line: nil))
        }
        if let passphraseFile {
            entries.append(ConfigEntry(key: "age.passphrase_file", value: passphraseFile, file: "--passphrase-file",
                                       line: nil))
        }
        return entries
    }
}
