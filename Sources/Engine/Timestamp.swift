import Foundation

/// UTC timestamps as the engine writes them: ISO 8601 in manifests and listings, the compact basic form
/// (`20261125T013000Z`) in file names so they sort by time and contain no colons.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// ISO 8601 in `timeZone`, with its offset: `2026-03-29T01:00:00+01:00`.
    public static func local(_ date: Date, in timeZone: TimeZone) -> String {
        var style = Date.ISO8601FormatStyle(timeZone: timeZone)
        style = style.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false)
            .timeSeparator(.colon).timeZone(separator: .colon)
        return date.formatted(style)
    }

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

/// Job names end up in file names, so they are restricted to a portable set of characters.
public enum JobName {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 100 && !name.hasPrefix(".")
            && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "-._".contains($0) }
    }

    /// The file name of a backup: `<job>_<UTC timestamp>.<ext>`, then each stage's extension in order
    /// (`app_20260101T000000Z.sql.zst`, later `.sql.zst.age`).
    public static func backupFileName(job: String, started: Date, dumpExtension: String, stageExtensions: [String]) -> String {
        ([ "\(job)_\(Timestamp.compact(started))", dumpExtension] + stageExtensions).joined(separator: ".")
    }

    /// The backup of `job` that `fileName` belongs to: itself when it is a backup, the backup a sidecar
    /// (`<backup>.<word>.json`, e.g. its manifest) belongs to; nil when the file is not the job's. Exact:
    /// a job named `x` owns none of job `x_20260101T000000Z`'s files.
    public static func backup(owning fileName: String, job: String) -> (backup: String, isSidecar: Bool)? {
        if isBackupFile(fileName, of: job) { return (fileName, false) }
        guard fileName.hasSuffix(".json") else { return nil }
        let stem = fileName.dropLast(5)
        guard let dot = stem.lastIndex(of: "."), stem[stem.index(after: dot)...].allSatisfy({ $0.isASCII && $0.isLetter }),
              stem.index(after: dot) < stem.endIndex else { return nil }
        let backup = String(stem[..<dot])
        return isBackupFile(backup, of: job) ? (backup, true) : nil
    }

    /// True when `fileName` has the shape of a backup of `job`; the manifest decides the rest.
    public static func isBackupFile(_ fileName: String, of job: String) -> Bool {
        let prefix = job + "_"
        guard fileName.hasPrefix(prefix) else { return false }
        let rest = fileName.dropFirst(prefix.count)
        guard Timestamp.parseCompact(rest.prefix(16)) != nil else { return false }
        // Extensions come from plugins, so only their shape is checked here: `.sql`, `.dump.zst`, ...
        let extensions = rest.dropFirst(16)
        return extensions.hasPrefix(".") && !extensions.hasSuffix(".") && !extensions.contains("..")
            && extensions.allSatisfy { $0 == "." || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
            && !extensions.hasSuffix(".json")
    }
}
