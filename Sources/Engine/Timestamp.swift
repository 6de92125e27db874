import Foundation

extension Duration {
    /// The duration in seconds, for logs, metrics and manifests.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// UTC timestamps as the engine writes them: ISO 8601 in manifests and listings, the compact basic form
/// (`20261125T013000Z`) in file names so they sort by time and contain no colons.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// ISO 8601 in `timeZone`, with its offset: `2026-03-29T01:00:00+01:00`; in UTC as ``iso8601(_:)`` writes
    /// it (`…Z`), so that text output has one format for UTC.
    public static func local(_ date: Date, in timeZone: TimeZone) -> String {
        if isUTC(timeZone) { return iso8601(date) }
        var style = Date.ISO8601FormatStyle(timeZone: timeZone)
        style = style.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false)
            .timeSeparator(.colon).timeZone(separator: .colon)
        return date.formatted(style)
    }

    /// Whether `timeZone` is UTC (Foundation names it GMT).
    public static func isUTC(_ timeZone: TimeZone) -> Bool {
        ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Z", "Zulu"].contains(timeZone.identifier)
    }

    /// The zone's name as the config takes it; `UTC` for UTC.
    public static func zoneName(_ timeZone: TimeZone) -> String { isUTC(timeZone) ? "UTC" : timeZone.identifier }

    public static func parseISO8601(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle().parse(text))
            ?? (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
    }

    public static func compact(_ date: Date) -> String {
        let c = Calendar.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(c.year ?? 0)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(c.second))Z"
    }

    public static func parseCompact(_ text: some StringProtocol) -> Date? {
        // ASCII only: `isNumber` also accepts digits such as "٣" or "½" that `Int` cannot parse.
        let digits = text.filter { $0.isASCII && $0.isNumber }
        guard text.count == 16, digits.count == 14, text.dropFirst(8).first == "T", text.last == "Z"
        else { return nil }
        let n = digits.map { Int(String($0))! }
        func number(_ from: Int, _ count: Int) -> Int { n[from..<(from + count)].reduce(0) { $0 * 10 + $1 } }
        let components = DateComponents(
            calendar: .utc, timeZone: TimeZone(identifier: "UTC"), year: number(0, 4), month: number(4, 2),
            day: number(6, 2), hour: number(8, 2), minute: number(10, 2), second: number(12, 2))
        return components.date
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}

