import Engine
import Foundation

/// `expire`: deletes backups older than `expire.after`, but always keeps the newest `expire.min_keep`.
/// Called `age` (keys `age.max`, `age.min_keep`) before `age` became the encryption stage; the old name
/// and keys still work.
public struct ExpireRetentionFactory: RetentionPolicyFactory {
    public init() {}
    public let name = "expire"
    /// `retention = age` still means this plugin (as do the keys `age.max` and `age.min_keep`).
    public let formerNames = ["age"]
    public let summary = "delete backups older than a maximum age"
    public let keys = [
        KeySpec("after", .duration, default: "30d", aliases: ["age.max"], summary: "backups older than this are deleted"),
        KeySpec("min_keep", .integer(1...10_000), default: "3", aliases: ["age.min_keep"], summary: "newest backups kept whatever their age"),
    ]

    public func make(_ settings: PluginSettings) throws -> any RetentionPolicy {
        ExpireRetention(maxAge: try settings.seconds(required: "after"), minKeep: try settings.integer(required: "min_keep"))
    }
}

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
