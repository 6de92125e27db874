import Engine
import Foundation

public struct ExpireRetention: RetentionPolicy {
    public var maxAge: Double
    public var minKeep: Int

    public init(maxAge: Double, minKeep: Int) {
        self.maxAge = maxAge
        self.minKeep = minKeep
    }

    public func decide(_ backups: [BackupRecord], context: RetentionContext) -> [RetentionDecision] {
        let newestFirst = backups.sorted { ($0.created, $0.name) > ($1.created, $1.name) }
        return newestFirst.enumerated().map { index, backup in
            let age = context.now.timeIntervalSince(backup.created)
            if index < minKeep {
                return RetentionDecision(backup: backup, keep: true, reason: "one of the newest \(minKeep)")
            }
            return age <= maxAge
                ? RetentionDecision(backup: backup, keep: true, reason: "younger than \(Int(maxAge / 86_400))d")
                : RetentionDecision(backup: backup, keep: false, reason: "older than \(Int(maxAge / 86_400))d")
        }
    }
}
