import Engine
import PluginSupport
import Foundation

public struct WebhookNotifier: Notifier {
    public let url: String
    public let token: String?
    public var name: String { "webhook" }

    public func notify(_ event: JobEvent) async throws {
        let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        try await JSONPost.send(Self.body(event), to: url, headers: headers, label: "the webhook")
    }

    /// The JSON object: every field of the event, null where it has no value.
    static func body(_ event: JobEvent) -> [String: Any] {
        [
            "job": event.job, "database": event.database ?? NSNull(), "status": event.status.rawValue,
            "bytes": Int(event.bytes), "raw_bytes": Int(event.rawBytes),
            "duration_seconds": (event.durationSeconds * 1000).rounded() / 1000,
            "file": event.file ?? NSNull(), "error": event.error ?? NSNull(),
            "verification": event.verification ?? NSNull(), "finished_at": Timestamp.iso8601(event.finishedAt),
            "message": event.summaryLine,
            "destinations": event.destinations.map { result -> [String: Any] in
                ["name": result.name, "status": result.status.rawValue,
                 "file": result.file ?? NSNull(), "error": result.error ?? NSNull()]
            },
            // A whole-server job's databases; empty for a job of one database.
            "databases": event.databases.map { result -> [String: Any] in
                ["database": result.database, "status": result.status.rawValue, "file": result.file ?? NSNull(),
                 "bytes": Int(result.bytes), "error": result.error ?? NSNull()]
            },
        ]
    }
}
