/// Makes a ``Destination`` from its settings.
public protocol DestinationFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any Destination
    /// The destination and object name a location written by a person means (`restore --backup`): a
    /// path for local storage, a URL for remote storage; nil when the location is not of this plugin's
    /// form. Credentials and other settings come from `settings`, the job's settings of this plugin.
    func resolve(location: String, settings: PluginSettings) throws -> (destination: any Destination, name: String)?
}

extension DestinationFactory {
    public func resolve(
        location: String, settings: PluginSettings
    ) throws -> (destination: any Destination, name: String)? { nil }
}
