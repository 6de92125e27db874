/// Makes a ``RetentionPolicy`` from its settings.
public protocol RetentionPolicyFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any RetentionPolicy
}
