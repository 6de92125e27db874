/// One destination's copy of a run's backup.
public struct BackupCopy: Sendable {
    /// The destination's name in the job (`b`, `b@eu`).
    public var destination: String
    public var record: BackupRecord
    /// Backups that this destination's retention removed after the copy was published.
    public var deleted: [String]
}
