import Foundation
import Logging

/// `log.format = json`: one JSON object per line on stderr — time, level, job, message, then the other
/// metadata — which log collectors (Loki, Elasticsearch, OpenShift logging) index without parsing text.
///
/// swift-log ships only a text handler; a LogHandler is the extension point it offers for this. Fields
/// are written in a fixed order, so the lines also read well by eye.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = Self.merged(metadata, metadataProvider, event)
        var fields: [(String, String)] = []
        if let job = all.removeValue(forKey: "job") { fields.append(("job", "\(job)")) }
        fields.append(("message", "\(event.message)"))
        for key in all.keys.sorted() { fields.append((key, "\(all[key]!)")) }
        FileHandle.standardError.write(Data(Self.line(level: event.level.rawValue, fields).utf8))
    }

    /// The handler's metadata, then its provider's, then the event's; later ones win. Both handlers log this.
    static func merged(
        _ own: Logger.Metadata, _ provider: Logger.MetadataProvider?, _ event: LogEvent
    ) -> Logger.Metadata {
        var all = own
        if let provided = provider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        return all
    }

    /// One line: `{"time":…,"level":…,<fields in order>}` and a newline.
    static func line(level: String, _ fields: [(String, String)]) -> String {
        let all = [("time", timestamp()), ("level", level)] + fields
        return "{" + all.map { "\(quote($0.0)):\(quote($0.1))" }.joined(separator: ",") + "}\n"
    }

    static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
