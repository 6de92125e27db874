import Engine
import PluginSupport

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
