import Engine
import PluginSupport

/// `teams`: a message card to a Microsoft Teams incoming webhook.
public struct TeamsNotifierFactory: NotifierFactory {
    public init() {}
    public let name = "teams"
    public let summary = "a message card to a Microsoft Teams incoming webhook"
    public let keys = [KeySpec("url", .string, required: true, secret: true, summary: "the incoming webhook's URL (prefer teams.url_file: it holds the key)")]

    public func make(_ settings: PluginSettings) throws -> any Notifier {
        TeamsNotifier(url: try JSONPost.check(try settings.string(required: "url"), key: "url"))
    }
}

public struct TeamsNotifier: Notifier {
    public let url: String
    public var name: String { "teams" }

    public func notify(_ event: JobEvent) async throws {
        let failed = event.status != .success
        try await JSONPost.send([
            "@type": "MessageCard", "@context": "https://schema.org/extensions",
            "summary": event.summaryLine, "themeColor": failed ? "D13438" : "2EB886",
            "title": event.status == .partial ? "Backup of \(event.job) stored only partly"
                : failed ? "Backup of \(event.job) failed" : "Backup of \(event.job) succeeded",
            "text": event.summaryLine,
        ], to: url, label: "the Teams webhook")
    }
}
