import Engine
import Foundation

public struct RollingRetention: RetentionPolicy {
    public var daily: Int
    public var weekly: Int
    public var monthly: Int
    public var yearly: Int
    public var keepLast: Int

    public init(daily: Int, weekly: Int, monthly: Int, yearly: Int = 0, keepLast: Int = 1) {
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.yearly = yearly
        self.keepLast = keepLast
    }

    public func decide(_ backups: [BackupRecord], context: RetentionContext) -> [RetentionDecision] {
        let calendar = context.calendar
        let newestFirst = backups.sorted { ($0.created, $0.name) > ($1.created, $1.name) }
        var reasons: [String: [String]] = [:]
        for (index, backup) in newestFirst.prefix(keepLast).enumerated() {
            reasons[backup.name, default: []].append(index == 0 ? "newest" : "one of the newest \(keepLast)")
        }
        let tiers: [(count: Int, label: String, period: (Date) -> String)] = [
            (daily, "daily", { Self.format(calendar, $0, [.year, .month, .day]) }),
            (weekly, "weekly", { Self.week(calendar, $0) }),
            (monthly, "monthly", { Self.format(calendar, $0, [.year, .month]) }),
            (yearly, "yearly", { Self.format(calendar, $0, [.year]) }),
        ]
        for tier in tiers where tier.count > 0 {
            var seen: [String] = []
            // Newest first, so the first backup met in a period is that period's newest.
            for backup in newestFirst {
                let period = tier.period(backup.created)
                guard !seen.contains(period) else { continue }
                guard seen.count < tier.count else { break }
                seen.append(period)
                reasons[backup.name, default: []].append("\(tier.label) \(period)")
            }
        }
        return newestFirst.map { backup in
            let kept = reasons[backup.name] ?? []
            return RetentionDecision(backup: backup, keep: !kept.isEmpty,
                                     reason: kept.isEmpty ? "in no tier" : kept.joined(separator: ", "))
        }
    }

    static func format(_ calendar: Calendar, _ date: Date, _ parts: Set<Calendar.Component>) -> String {
        let c = calendar.dateComponents(parts, from: date)
        func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
        return [c.year.map { String(format: "%04d", $0) }, c.month.map { two($0) }, c.day.map { two($0) }]
            .compactMap { $0 }.joined(separator: "-")
    }

    static func week(_ calendar: Calendar, _ date: Date) -> String {
        let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0)
    }
}
