import Crypto
import Engine

/// The `age` stage as a job's settings made it: the recipients or passphrase it encrypts to, and the
/// identities (or passphrase) it decrypts with.
public struct AgeEncryption: Encryption {
    public var name: String { "age" }
    public var fileExtension: String? { "age" }
    let recipients: [X25519Recipient]
    let passphrase: String?
    let workFactor: Int
    let identities: [X25519Identity]

    init(_ settings: PluginSettings) throws {
        var recipients: [X25519Recipient] = []
        for (index, token) in AgeKeyList.tokens(settings.string("recipients") ?? "").enumerated() {
            // The token is not echoed: a secret key pasted here by mistake must not reach a log.
            guard let recipient = X25519Recipient(token) else {
                let hint = X25519Identity(token) != nil
                    ? ": it is an identity (a secret key); put its recipient here (`backup keygen -y FILE`)"
                        + " and keep the identity out of this config"
                    : token.hasPrefix("ssh-")
                        ? ": ssh keys are not supported, use age1… keys (`backup keygen`)"
                        : " (age1…, as `backup keygen` prints it)"
                throw SettingError(key: "recipients", message: "entry \(index + 1) is not an age public key\(hint)")
            }
            guard recipient.isUsable else {
                throw SettingError(key: "recipients", message: "entry \(index + 1) \(X25519Recipient.lowOrder)")
            }
            if !recipients.contains(recipient) { recipients.append(recipient) }
        }
        self.recipients = recipients
        passphrase = settings.string("passphrase").flatMap { $0.isEmpty ? nil : $0 }
        workFactor = settings.integer("work_factor") ?? 18
        do {
            identities = try AgeKeyList.identities(settings.string("identity") ?? "")
        } catch {
            throw SettingError(key: "identity", message: "\(error)")
        }
    }

    /// The recipients, or that a passphrase was used: what the manifest shows about who can read a backup.
    public var parameters: [String: String] {
        passphrase != nil && recipients.isEmpty
            ? ["passphrase": "scrypt"]
            : ["recipients": recipients.map(\.encoded).joined(separator: ",")]
    }

    public func makeEncoder() throws -> any ByteTransform {
        if let passphrase, recipients.isEmpty {
            return AgeEncoder(recipients: [ScryptRecipient(passphrase: passphrase, workFactor: workFactor)])
        }
        return AgeEncoder(recipients: recipients)
    }

    public func makeDecoder(for record: StageRecord) throws -> any ByteTransform {
        var tried: [any AgeIdentity] = identities
        if let passphrase { tried.append(ScryptRecipient(passphrase: passphrase, workFactor: workFactor)) }
        let recorded: String? = record.parameters?["recipients"]
        let madeFor = recorded.map { "encrypted to \($0.split(separator: ",").joined(separator: ", "))" }
            ?? (record.parameters?["passphrase"] != nil ? "encrypted with a passphrase" : "encrypted with age")
        guard !tried.isEmpty else {
            let need = record.parameters?["passphrase"] != nil
                ? "its passphrase: set age.passphrase_file (restore and verify also take --passphrase-file FILE)"
                : "an identity that decrypts it: set age.identity_file (restore and verify also take --identity FILE)"
            throw BackupError(.decryption, "the backup is \(madeFor); reading it needs \(need)")
        }
        // A key of the wrong kind cannot open the file: said now, before a restore creates anything.
        if record.parameters?["passphrase"] != nil, passphrase == nil {
            throw BackupError(.decryption, "the backup is \(madeFor); an identity cannot open it,"
                + " it needs its passphrase: set age.passphrase_file"
                + " (restore and verify also take --passphrase-file FILE)")
        }
        if record.parameters?["recipients"] != nil, identities.isEmpty {
            throw BackupError(.decryption, "the backup is \(madeFor); a passphrase cannot open it,"
                + " it needs an identity: set age.identity_file (restore and verify also take --identity FILE)")
        }
        let mine = identities.map(\.recipient.encoded)
        let intended = Set(recorded?.split(separator: ",").map(String.init) ?? [])
        var noMatch = "no key given opens it: the backup is \(madeFor)"
            + (mine.isEmpty ? "" : "; the identities given are for \(mine.joined(separator: ", "))")
            + (passphrase == nil ? ""
                : identities.isEmpty ? "; the passphrase given is wrong" : "; nor does the passphrase")
        if let right = mine.first(where: intended.contains) {
            // The right key that does not open its own stanza: the header was changed since it was written.
            noMatch = "the age header is damaged: the key given (for \(right)) is one of the backup's recipients,"
                + " but its stanza does not open"
        }
        return AgeDecoder(identities: tried, noMatch: noMatch)
    }
}
