import BuiltinPlugins
import Engine
import Foundation
import Testing

/// When `backup run` starts a job at once: always without a schedule; with one, only when overdue.
@Suite struct CatchUpTests {
    static func job(_ lines: String) throws -> Job {
        let text = "local.path = /tmp\npostgres.user = u\npostgres.database = d\n\(lines)\n"
        return try JobLoader(registry: BuiltinPlugins.registry).load(try ConfigDocument.parse(text, file: "t.conf", environment: [:]))[0]
    }

    @Test func dueAtStart() throws {
        let now = Timestamp.parseISO8601("2026-11-25T00:59:00Z")!
        let daily = try Self.job("schedule = 0 1 * * *")
        #expect(daily.isDueAtStart(now: now, newestBackup: nil), "no backup yet")
        #expect(daily.isDueAtStart(now: now, newestBackup: now.addingTimeInterval(-25 * 3600)), "older than a day: overdue")
        #expect(!daily.isDueAtStart(now: now, newestBackup: now.addingTimeInterval(-23 * 3600)), "yesterday's 01:00 backup is fine")
        #expect(!(try Self.job("schedule = 0 1 * * *\ncatch_up = false")).isDueAtStart(now: now, newestBackup: nil))
        #expect(try Self.job("interval = 6h").isDueAtStart(now: now, newestBackup: now), "interval jobs start with a backup")
        #expect(daily.nextRun(after: now) == Timestamp.parseISO8601("2026-11-25T01:00:00Z"))
    }

    /// How old the newest backup may be (backup_max_age_seconds, the alerts' threshold): the longest gap
    /// between runs plus status.grace.
    @Test func maxBackupAgeFollowsTheSchedule() throws {
        let now = Timestamp.parseISO8601("2026-11-25T00:59:00Z")!  // a Wednesday
        #expect(try Self.job("interval = 6h").maxBackupAge(after: now) == 6 * 3600 + 3600)
        #expect(try Self.job("schedule = 0 1 * * *\nstatus.grace = 30m").maxBackupAge(after: now) == 86_400 + 1800)
        // Weekdays only: the weekend is the longest gap, Friday 01:00 to Monday 01:00.
        #expect(try Self.job("schedule = 0 1 * * 1-5").maxBackupAge(after: now) == 3 * 86_400 + 3600)
        // Yearly: the longest of the next ten years, a leap year's 366 days (2028).
        #expect(try Self.job("schedule = 0 0 1 1 *").maxBackupAge(after: now) == 366 * 86_400 + 3600)
    }
}
