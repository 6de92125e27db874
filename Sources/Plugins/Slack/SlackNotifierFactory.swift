import Engine
import PluginSupport

/// `slack`: a message to a Slack incoming webhook. Rocket.Chat and Mattermost incoming webhooks take the
/// same `{"text": …}` body.
public struct SlackNotifierFactory: NotifierFactory {
    public init() {}
    public let name = "slack"
    public let summary = "a message to a Slack, Rocket.Chat or Mattermost incoming webhook"
    public let keys = [
        KeySpec("url", .string, required: true, secret: true,
                summary: "the incoming webhook's URL (prefer slack.url_file: it holds the key)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Notifier {
        SlackNotifier(url: try JSONPost.check(try settings.string(required: "url"), key: "url"))
    }
}
