/// What one successful backup produced.
public struct BackupOutcome: Sendable {
    /// The first destination's copy (every copy has the same bytes and manifest).
    public var record: BackupRecord
    public var duration: Double
    /// Backups that retention removed after this one was published, at every destination.
    public var deleted: [String] { copies.flatMap(\.deleted) }
    /// Every destination's copy, in the order configured.
    public var copies: [BackupCopy]
}
