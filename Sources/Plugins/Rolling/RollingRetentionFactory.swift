import Engine

/// `rolling`: grandfather-father-son. Keeps the newest backup of each of the last N calendar days, ISO
/// weeks, months and years that have one (in the job's timezone), plus the newest `keep_last`.
public struct RollingRetentionFactory: RetentionPolicyFactory {
    public init() {}
    public let name = "rolling"
    public let summary = "keep the newest backup per day, week, month and year"
    public let keys = [
        KeySpec("daily", .integer(0...10_000), default: "7", summary: "days that keep their newest backup"),
        KeySpec("weekly", .integer(0...10_000), default: "4", summary: "ISO weeks that keep their newest backup"),
        KeySpec("monthly", .integer(0...10_000), default: "12", summary: "months that keep their newest backup"),
        KeySpec("yearly", .integer(0...1_000), default: "0", summary: "years that keep their newest backup"),
        KeySpec("keep_last", .integer(1...10_000), default: "1", summary: "newest backups always kept"),
    ]

    public func make(_ settings: PluginSettings) throws -> any RetentionPolicy {
        RollingRetention(
            daily: try settings.integer(required: "daily"), weekly: try settings.integer(required: "weekly"),
            monthly: try settings.integer(required: "monthly"), yearly: try settings.integer(required: "yearly"),
            keepLast: try settings.integer(required: "keep_last"))
    }
}
