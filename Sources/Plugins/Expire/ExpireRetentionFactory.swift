import Engine

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
        KeySpec("after", .duration, default: "30d", aliases: ["age.max"],
                summary: "backups older than this are deleted"),
        KeySpec("min_keep", .integer(1...10_000), default: "3", aliases: ["age.min_keep"],
                summary: "newest backups kept whatever their age"),
    ]

    public func make(_ settings: PluginSettings) throws -> any RetentionPolicy {
        ExpireRetention(maxAge: try settings.seconds(required: "after"),
                        minKeep: try settings.integer(required: "min_keep"))
    }
}
