import Engine
import Foundation
import Logging

/// `log.format = text`: one line per event on stderr for people: the UTC time (`…Z`, as every other time
/// the tool prints), the level, the message, then `job=` and the other metadata, sizes (`*_bytes`) in
/// binary units. swift-log's StreamLogHandler puts the message last, after the emitting module's name,
/// and writes the time zone's offset without a colon; its layout is not configurable.
struct TextLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = JSONLogHandler.merged(metadata, metadataProvider, event)
        var line = "\(Self.timestamp()) \(event.level.rawValue) \(event.message)"
        let keys = (all["job"] == nil ? [] : ["job"]) + all.keys.filter { $0 != "job" }.sorted()
        for key in keys { line += " " + Self.field(key, "\(all[key]!)") }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// `key=value`; a size in bytes as `key=339.1KiB` (JSON logs keep the exact count); a value with
    /// spaces or quotes quoted.
    static func field(_ key: String, _ value: String) -> String {
        if key.hasSuffix("_bytes"), let bytes = Int64(value) {
            return "\(key.dropLast(6))=\(ByteCount.format(bytes).replacingOccurrences(of: " ", with: ""))"
        }
        let plain = !value.isEmpty && !value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
        return "\(key)=" + (plain ? value : JSONLogHandler.quote(value))
    }

    static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }
}
