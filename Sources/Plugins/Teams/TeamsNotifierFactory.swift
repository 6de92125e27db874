import Engine
import PluginSupport

/// `teams`: a message card to a Microsoft Teams incoming webhook.
public struct TeamsNotifierFactory: NotifierFactory {
    public init() {}
    public let name = "teams"
    public let summary = "a message card to a Microsoft Teams incoming webhook"
    public let keys = [
        KeySpec("url", .string, required: true, secret: true,
                summary: "the incoming webhook's URL (prefer teams.url_file: it holds the key)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Notifier {
        TeamsNotifier(url: try JSONPost.check(try settings.string(required: "url"), key: "url"))
    }
}
