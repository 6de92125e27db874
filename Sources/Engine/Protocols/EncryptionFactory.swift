/// Makes an ``Encryption`` from its settings.
public protocol EncryptionFactory: PluginFactory {
    /// For a job that encrypts: the settings must say whom to encrypt to.
    func make(_ settings: PluginSettings) throws -> any Encryption
    /// For reading a backup (restore, verify) with whatever keys `settings` hold, even when the job does
    /// not encrypt (any longer).
    func makeForReading(_ settings: PluginSettings) throws -> any Encryption
}
