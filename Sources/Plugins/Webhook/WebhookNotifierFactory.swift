import Engine
import PluginSupport

/// `webhook`: POSTs each event as a JSON object to a URL, optionally with a bearer token.
public struct WebhookNotifierFactory: NotifierFactory {
    public init() {}
    public let name = "webhook"
    public let summary = "POST a JSON event to a URL"
    public let keys = [
        KeySpec("url", .string, required: true, summary: "http(s) URL that receives the POST"),
        KeySpec("token", .string, secret: true,
                summary: "bearer token sent as `Authorization: Bearer …` (prefer webhook.token_file)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Notifier {
        WebhookNotifier(url: try JSONPost.check(try settings.string(required: "url"), key: "url"),
                        token: settings.string("token"))
    }
}
