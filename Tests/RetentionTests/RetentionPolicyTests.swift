import Count
import Engine
import Expire
import Foundation
import Rolling
import Testing

/// The retention plugins as pure functions over synthetic backups.
@Suite struct RetentionPolicyTests {
    static func record(_ date: Date) -> BackupRecord {
        let name = "app_\(Timestamp.compact(date)).sql.gz"
        let manifest = Manifest(
            job: "app", file: name, database: "app", serverVersion: "15", dumpToolVersion: "15", format: "plain",
            stages: [StageRecord(kind: "compressor", name: "gzip", level: 6)], rawBytes: 1, storedBytes: 1, sha256: "", startedAt: date,
            finishedAt: date)
        return BackupRecord(object: StoredObject(name: name, location: "/b/\(name)", bytes: 1), manifest: manifest)
    }

    static func utc(_ text: String) -> Date { Timestamp.parseISO8601(text)! }

    /// One backup at 01:00 UTC every day of 2025.
    static let year2025: [BackupRecord] = (0..<365).map { record(utc("2025-01-01T01:00:00Z").addingTimeInterval(Double($0) * 86_400)) }

    static func keptDays(_ decisions: [RetentionDecision]) -> [String] {
        decisions.filter(\.keep).map { String(Timestamp.iso8601($0.backup.created).prefix(10)) }.sorted()
    }

    /// daily=7, weekly=4, monthly=12 over a year of daily backups, judged on 2025-12-31 (a Wednesday):
    /// the last 7 days; the newest of ISO weeks 2026-W01 (Dec 29-31), W52, W51, W50 (Sundays Dec 28, 21, 14);
    /// and the last day of each of the 12 months.
    @Test func rollingOverAYearOfDailyBackups() {
        let policy = RollingRetention(daily: 7, weekly: 4, monthly: 12)
        let decisions = policy.decide(Self.year2025.shuffled(), context: RetentionContext(now: Self.utc("2025-12-31T02:00:00Z")))
        #expect(decisions.count == 365)
        #expect(Self.keptDays(decisions) == [
            "2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30", "2025-07-31",
            "2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-14", "2025-12-21",
            "2025-12-25", "2025-12-26", "2025-12-27", "2025-12-28", "2025-12-29", "2025-12-30", "2025-12-31",
        ])
        let dec28 = decisions.first { Timestamp.iso8601($0.backup.created).hasPrefix("2025-12-28") }!
        #expect(dec28.reason == "daily 2025-12-28, weekly 2025-W52", "one backup may satisfy several tiers")
        let dec31 = decisions.first { Timestamp.iso8601($0.backup.created).hasPrefix("2025-12-31") }!
        #expect(dec31.reason == "newest, daily 2025-12-31, weekly 2026-W01, monthly 2025-12")
        #expect(decisions.first { Timestamp.iso8601($0.backup.created).hasPrefix("2025-06-15") }?.reason == "in no tier")
    }

    @Test func yearlyAndKeepLastTiers() {
        let records = [Self.utc("2023-06-01T00:00:00Z"), Self.utc("2024-03-01T00:00:00Z"), Self.utc("2024-09-01T00:00:00Z"),
                       Self.utc("2025-01-01T00:00:00Z"), Self.utc("2025-01-01T06:00:00Z")].map(Self.record)
        let policy = RollingRetention(daily: 0, weekly: 0, monthly: 0, yearly: 2, keepLast: 2)
        let kept = policy.decide(records, context: RetentionContext()).filter(\.keep).map { Timestamp.iso8601($0.backup.created) }
        #expect(Set(kept) == ["2025-01-01T06:00:00Z", "2025-01-01T00:00:00Z", "2024-09-01T00:00:00Z"])
    }

    /// Two backups 20 hours apart are one UTC day but two days in New York (UTC-4 after the March DST change).
    @Test func calendarTiersUseTheJobsTimezone() {
        let records = [Self.utc("2025-03-10T03:00:00Z"), Self.utc("2025-03-10T23:00:00Z")].map(Self.record)
        let policy = RollingRetention(daily: 2, weekly: 0, monthly: 0)
        let inUTC = policy.decide(records, context: RetentionContext(timeZone: TimeZone(identifier: "UTC")!))
        #expect(inUTC.filter(\.keep).count == 1)
        let inNewYork = policy.decide(records, context: RetentionContext(timeZone: TimeZone(identifier: "America/New_York")!))
        #expect(inNewYork.filter(\.keep).count == 2)
        #expect(inNewYork.map(\.reason).sorted() == ["daily 2025-03-09", "newest, daily 2025-03-10"])
    }

    @Test(arguments: [(10, 3, 11), (1, 3, 3), (400, 3, 365)])
    func expireKeepsYoungBackupsAndAlwaysAMinimum(days: Int, minKeep: Int, expectedKept: Int) {
        let policy = ExpireRetention(maxAge: Double(days) * 86_400, minKeep: minKeep)
        let decisions = policy.decide(Self.year2025, context: RetentionContext(now: Self.utc("2025-12-31T01:00:00Z")))
        #expect(decisions.filter(\.keep).count == expectedKept)
        #expect(decisions.filter { !$0.keep }.allSatisfy { $0.reason == "older than \(days)d" })
    }

    /// The engine's guarantees over any policy: the newest always stays, and nothing goes while the newest
    /// backup failed its verification.
    @Test func engineGuaranteesOverrideThePolicy() {
        var records = Array(Self.year2025.suffix(5))
        let policy = ExpireRetention(maxAge: 0, minKeep: 1)
        let context = RetentionContext(now: Self.utc("2026-06-01T00:00:00Z"))
        #expect(RetentionRunner.plan(policy, records: records, justMade: nil, context: context).count == 4)
        records[4].manifest.verification = "failed: row counts differ"
        #expect(RetentionRunner.plan(policy, records: records, justMade: nil, context: context).isEmpty)
        let reasons = RetentionRunner.decisions(policy, records: records, justMade: nil, context: context).map(\.reason)
        #expect(reasons.dropFirst().allSatisfy { $0.contains("failed verification") })
    }

    @Test func countKeepsTheNewest() {
        let decisions = CountRetention(keep: 31).decide(Self.year2025, context: RetentionContext())
        #expect(Self.keptDays(decisions).first == "2025-12-01" && decisions.filter(\.keep).count == 31)
    }
}
