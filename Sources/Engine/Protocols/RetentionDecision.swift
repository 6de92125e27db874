/// Keep or delete, and why, for one backup.
public struct RetentionDecision: Sendable, Equatable {
    public var backup: BackupRecord
    public var keep: Bool
    public var reason: String

    public init(backup: BackupRecord, keep: Bool, reason: String) {
        self.backup = backup
        self.keep = keep
        self.reason = reason
    }
}
