import Foundation
import Testing

@testable import Engine

/// Cron next-run times checked against known calendar values, including daylight-saving changes.
@Suite("CronSchedule") struct CronScheduleTests {
    static func utc(_ text: String) -> Date { Timestamp.parseISO8601(text)! }
    static func zone(_ name: String) -> TimeZone { TimeZone(identifier: name)! }

    /// (schedule, timezone, after, expected next runs in UTC)
    @Test(arguments: [
        ("*/15 * * * *", "UTC", "2026-11-25T10:07:00Z", ["2026-11-25T10:15:00Z", "2026-11-25T10:30:00Z"]),
        ("0 1 * * *", "UTC", "2026-11-25T01:00:00Z", ["2026-11-26T01:00:00Z"]),
        ("@hourly", "UTC", "2026-12-31T23:59:30Z", ["2027-01-01T00:00:00Z", "2027-01-01T01:00:00Z"]),
        ("@weekly", "UTC", "2026-11-25T00:00:00Z", ["2026-11-29T00:00:00Z", "2026-12-06T00:00:00Z"]),
        ("@monthly", "UTC", "2026-01-31T12:00:00Z", ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"]),
        ("@yearly", "UTC", "2026-06-01T00:00:00Z", ["2027-01-01T00:00:00Z"]),
        // The 31st exists only in some months: February, April, June are skipped.
        ("0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"]),
        // February 29th: the next one is in 2028.
        ("0 12 29 2 *", "UTC", "2026-03-01T00:00:00Z", ["2028-02-29T12:00:00Z"]),
        // Lists, ranges, steps and names; 2026-11-27 is a Friday, then Monday 2026-11-30.
        ("0,30 9-17/4 * NOV-DEC MON-FRI", "UTC", "2026-11-27T16:00:00Z", ["2026-11-27T17:00:00Z", "2026-11-27T17:30:00Z", "2026-11-30T09:00:00Z"]),
        // Day-of-month and day-of-week both restricted: either matches (13th, or a Friday).
        ("0 0 13 * FRI", "UTC", "2026-11-10T00:00:00Z", ["2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z", "2026-12-04T00:00:00Z"]),
        // Berlin springs forward on 2026-03-29 at 02:00: 01:00 CET is 00:00Z, the next 01:00 CEST is 23:00Z.
        ("0 1 * * *", "Europe/Berlin", "2026-03-28T23:00:00Z", ["2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z"]),
        // New York skips 02:00-03:00 on 2026-03-08: 02:30 does not exist that day, so it runs on the 9th.
        ("30 2 * * *", "America/New_York", "2026-03-07T08:00:00Z", ["2026-03-09T06:30:00Z"]),
        // New York repeats 01:00-02:00 on 2026-11-01: 01:30 runs once, at its first (EDT) occurrence.
        ("30 1 * * *", "America/New_York", "2026-11-01T04:00:00Z", ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]),
        // @monthly at a month end in a zone ahead of UTC: local midnight of the 1st is the day before in UTC.
        ("@monthly", "Asia/Tokyo", "2026-01-31T12:00:00Z", ["2026-01-31T15:00:00Z", "2026-02-28T15:00:00Z"]),
    ])
    func nextRuns(_ schedule: String, _ zone: String, _ after: String, _ expected: [String]) throws {
        let cron = try CronSchedule(schedule)
        var time = Self.utc(after)
        var runs: [String] = []
        for _ in expected {
            guard let next = cron.next(after: time, in: Self.zone(zone)) else { break }
            runs.append(Timestamp.iso8601(next))
            time = next
        }
        #expect(runs == expected)
    }

    @Test func impossibleScheduleHasNoNextRun() throws {
        #expect(try CronSchedule("0 0 30 2 *").next(after: Self.utc("2026-01-01T00:00:00Z"), in: Self.zone("UTC")) == nil)
    }

    @Test(arguments: [
        ("61 * * * *", "'61' is not a valid minute (0-59)"),
        ("* * *", "needs 5 fields"),
        ("0 0 * * MONX", "'MONX' is not a valid day-of-week"),
        ("0 0 * 13 *", "'13' is not a valid month (1-12 or JAN-DEC)"),
        ("*/0 * * * *", "is not a positive step"),
        ("0 5-1 * * *", "runs backwards"),
        ("@fortnightly", "is not a macro"),
    ])
    func badSchedulesSayWhatIsWrong(_ schedule: String, _ expected: String) {
        #expect { try CronSchedule(schedule) } throws: { error in
            (error as? SettingError)?.message.contains(expected) == true
        }
    }
}
