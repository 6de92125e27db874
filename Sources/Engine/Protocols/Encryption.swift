/// A stage that makes backups unreadable without a key (the `encryption` role).
///
/// Implementation requirements:
/// - The encoder needs no secret a backup pod should not hold (public keys), where the format allows it.
/// - `makeDecoder` throws ``BackupError/Code/decryption`` naming the setting to supply when the stage holds
///   no key that opens the backup, and on any damaged, truncated or reordered input.
/// - `parameters` names the keys a backup was encrypted to, never a secret.
public protocol Encryption: Stage {}
