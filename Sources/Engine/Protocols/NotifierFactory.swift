/// Makes a ``Notifier`` from its settings.
public protocol NotifierFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any Notifier
}
