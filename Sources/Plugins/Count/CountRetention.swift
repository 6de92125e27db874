import Engine

public struct CountRetention: RetentionPolicy {
    public let keep: Int

    public init(keep: Int) { self.keep = keep }

    public func decide(_ backups: [BackupRecord], context: RetentionContext) -> [RetentionDecision] {
        let newestFirst = backups.sorted { ($0.created, $0.name) > ($1.created, $1.name) }
        return newestFirst.enumerated().map { index, backup in
            index < keep
                ? RetentionDecision(backup: backup, keep: true, reason: "one of the newest \(keep)")
                : RetentionDecision(backup: backup, keep: false, reason: "beyond the newest \(keep)")
        }
    }
}
