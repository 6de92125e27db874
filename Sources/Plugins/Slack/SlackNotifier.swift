import Engine
import PluginSupport

public struct SlackNotifier: Notifier {
    public let url: String
    public var name: String { "slack" }

    public func notify(_ event: JobEvent) async throws {
        let icon = event.status == .success ? ":white_check_mark:" : ":rotating_light:"
        try await JSONPost.send(["text": "\(icon) \(event.summaryLine)"], to: url, label: "the Slack webhook")
    }
}
