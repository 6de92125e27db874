/// The four plugin roles a job is composed of.
public enum PluginKind: String, Sendable, CaseIterable {
    case source, compressor, destination, retention
}

/// Maps config names to plugin factories. Built from an explicit list (see `BuiltinPlugins` in Plugins);
/// there is no global registration.
public struct PluginRegistry: Sendable {
    public let sources: [any SourceFactory]
    public let compressors: [any CompressorFactory]
    public let destinations: [any DestinationFactory]
    public let retentions: [any RetentionPolicyFactory]
    /// Notifiers are not a role with one plugin per job: a job names any number of them in `notify`.
    public let notifiers: [any NotifierFactory]
    /// The plugin each role uses when a job does not name one.
    public let defaults: [PluginKind: String]

    /// - Precondition: names are unique across all roles (a plugin's name is also its key prefix), and each
    ///   default names a registered plugin of its role. Violations are programming errors.
    public init(
        sources: [any SourceFactory], compressors: [any CompressorFactory],
        destinations: [any DestinationFactory], retentions: [any RetentionPolicyFactory],
        notifiers: [any NotifierFactory] = [], defaults: [PluginKind: String]
    ) {
        self.sources = sources
        self.compressors = compressors
        self.destinations = destinations
        self.retentions = retentions
        self.notifiers = notifiers
        self.defaults = defaults
        let names = all.map(\.name)
        precondition(Set(names).count == names.count, "duplicate plugin name in \(names)")
        for (kind, name) in defaults {
            precondition(self.names(of: kind).contains(name), "default \(kind) '\(name)' is not registered")
        }
    }

    /// Every factory, of every role.
    public var all: [any PluginFactory] { sources + compressors + destinations + retentions + notifiers }

    public func names(of kind: PluginKind) -> [String] {
        switch kind {
        case .source: sources.map(\.name)
        case .compressor: compressors.map(\.name)
        case .destination: destinations.map(\.name)
        case .retention: retentions.map(\.name)
        }
    }

    public func factory(named name: String) -> (any PluginFactory)? {
        all.first { $0.name == name }
    }

    /// The compressor named `name` with its default settings: what reads a backup whose manifest names it,
    /// whatever the job is configured to write now.
    public func compressor(named name: String) throws -> any Compressor {
        guard let factory = compressors.first(where: { $0.name == name }) else {
            throw BackupError(.notFound, "the backup was compressed with '\(name)', which this build does not know; known: \(names(of: .compressor).joined(separator: ", "))")
        }
        var values: [String: String] = [:]
        for key in factory.keys { values[key.name] = key.defaultValue }
        return try factory.make(PluginSettings(plugin: name, values: values))
    }
}
