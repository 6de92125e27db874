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

import Foundation

/// When and where retention decides: calendar tiers (days, weeks, months) are the job's timezone's, and
/// ages are measured from `now` (which `prune --as-of` may move).
public struct RetentionContext: Sendable {
    public var now: Date
    public var timeZone: TimeZone

    public init(now: Date = Date(), timeZone: TimeZone = TimeZone(identifier: "UTC")!) {
        self.now = now
        self.timeZone = timeZone
    }

    /// A Gregorian calendar in `timeZone`, with ISO 8601 weeks (Monday first, four-day rule).
    public var calendar: Calendar {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        return calendar
    }
}

/// Decides which of a job's stored backups to keep.
///
/// Implementation requirements:
/// - `decide` is a pure function of its arguments: it looks at what is stored, never at a state file.
/// - It returns exactly one decision per backup given. The engine adds its own guarantees on top (the
///   newest backup and the one just made are always kept), so a policy need not repeat them.
public protocol RetentionPolicy: Sendable {
    func decide(_ backups: [BackupRecord], context: RetentionContext) -> [RetentionDecision]
}

/// Makes a ``RetentionPolicy`` from its settings.
public protocol RetentionPolicyFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any RetentionPolicy
}
