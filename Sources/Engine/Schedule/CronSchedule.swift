import Foundation

/// A five-field cron schedule (minute hour day-of-month month day-of-week) or a macro such as `@daily`,
/// evaluated in a timezone.
///
/// Daylight-saving changes: a local time that a spring-forward skips does not run that day, and a local
/// time that a fall-back repeats runs once (at its first occurrence). When both day-of-month and
/// day-of-week are restricted, a day matching either runs, as in Vixie cron.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday.
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public var description: String { text }

    static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Parses `text`; the error message says which field is wrong and what is allowed.
    public init(_ text: String) throws(SettingError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        self.text = trimmed
        let expanded = Self.macros[trimmed.lowercased()] ?? trimmed
        if expanded.hasPrefix("@") {
            throw SettingError(key: "schedule", message: "'\(trimmed)' is not a macro; "
                               + "use @hourly, @daily, @weekly, @monthly or @yearly")
        }
        let fields = expanded.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw SettingError(key: "schedule", message: "'\(trimmed)' needs 5 fields "
                               + "(minute hour day-of-month month day-of-week), e.g. 30 1 * * *")
        }
        minutes = try Self.field(fields[0], "minute", 0...59, names: [])
        hours = try Self.field(fields[1], "hour", 0...23, names: [])
        days = try Self.field(fields[2], "day-of-month", 1...31, names: [])
        months = try Self.field(fields[3], "month", 1...12, names: Self.monthNames, firstName: 1)
        weekdays = Set(try Self.field(fields[4], "day-of-week", 0...7, names: Self.dayNames).map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    private static func field(
        _ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String], firstName: Int = 0
    ) throws(SettingError) -> Set<Int> {
        func value(_ token: Substring) throws(SettingError) -> Int {
            if let number = Int(token), range.contains(number) { return number }
            if let index = names.firstIndex(of: token.uppercased()) { return index + firstName }
            let spelled = names.isEmpty ? "" : " or \(names.first!)-\(names.last!)"
            throw SettingError(key: "schedule", message: "'\(token)' is not a valid \(name) "
                               + "(\(range.lowerBound)-\(range.upperBound)\(spelled))")
        }
        var result = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, !parts[0].isEmpty else {
                throw SettingError(key: "schedule", message: "'\(item)' is not a valid \(name) item")
            }
            var step = 1
            if parts.count == 2 {
                guard let parsed = Int(parts[1]), parsed > 0 else {
                    throw SettingError(key: "schedule",
                                       message: "'/\(parts[1])' in the \(name) field is not a positive step")
                }
                step = parsed
            }
            let bounds: ClosedRange<Int>
            if parts[0] == "*" {
                bounds = range
            } else if let dash = parts[0].firstIndex(of: "-") {
                let low = try value(parts[0][..<dash]), high = try value(parts[0][parts[0].index(after: dash)...])
                guard low <= high else {
                    throw SettingError(key: "schedule", message: "'\(parts[0])' in the \(name) field runs backwards")
                }
                bounds = low...high
            } else {
                let single = try value(parts[0])
                bounds = single...(parts.count == 2 ? range.upperBound : single)
            }
            result.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return result
    }

    /// The first run strictly after `date`, or nil if none within eight years (e.g. `0 0 30 2 *`).
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let wanted: Set<Calendar.Component> = [.year, .month, .day, .hour, .minute, .weekday]
        let previous = calendar.dateComponents(wanted, from: date)
        var time = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = date.addingTimeInterval(8 * 366 * 86_400)
        while time < limit {
            let c = calendar.dateComponents(wanted, from: time)
            guard let month = c.month, let day = c.day, let hour = c.hour, let minute = c.minute,
                  let weekday = c.weekday else { return nil }
            if !months.contains(month) {
                let first = calendar.date(from: DateComponents(year: c.year, month: month + 1, day: 1))
                guard let first, first > time else { return nil }
                time = first
            } else if !dayMatches(day: day, weekday: weekday - 1) {
                let midnight = calendar.startOfDay(for: time)
                guard let tomorrow = calendar.date(byAdding: .day, value: 1, to: midnight) else { return nil }
                time = tomorrow
            } else if !hours.contains(hour) {
                time = time.addingTimeInterval(Double(60 - minute) * 60)
            } else if !minutes.contains(minute) {
                time = time.addingTimeInterval(60)
            } else if !Self.wallClock(previous).lexicographicallyPrecedes(Self.wallClock(c)) {
                // A fall-back hour repeats this local time; it already ran.
                time = time.addingTimeInterval(60)
            } else {
                return time
            }
        }
        return nil
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): days.contains(day) || weekdays.contains(weekday)
        case (true, false): days.contains(day)
        case (false, true): weekdays.contains(weekday)
        case (false, false): true
        }
    }

    private static func wallClock(_ c: DateComponents) -> [Int] {
        [c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0]
    }
}
