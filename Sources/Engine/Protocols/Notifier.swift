/// Tells someone how a job's run went: a webhook, a chat channel.
///
/// Implementation requirements:
/// - `notify` delivers one event and throws when the receiver did not accept it (unreachable, a non-2xx
///   answer). It need not time out by itself: the engine gives every notifier `notify.timeout` and then
///   cancels it, so it must honour task cancellation.
/// - Secrets (tokens, URLs with keys in them) never appear in errors or logs.
public protocol Notifier: Sendable {
    /// The plugin's name, for logs.
    var name: String { get }
    func notify(_ event: JobEvent) async throws
}
