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
