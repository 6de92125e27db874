/// Maps config names to plugin factories. Built from an explicit list (see `BuiltinPlugins` in Plugins);
/// there is no global registration.
public struct PluginRegistry: Sendable {
    public let sources: [any SourceFactory]
    public let compressors: [any CompressorFactory]
    /// Optional: a job without `encryption` stores what its compressor wrote.
    public let encryptions: [any EncryptionFactory]
    /// The value of `encryption` that turns the role off explicitly (e.g. in a job whose defaults
    /// encrypt), as the list of plugins names it; nil when only leaving the key out does.
    public let encryptionOff: String?
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
        encryptions: [any EncryptionFactory] = [], encryptionOff: String? = nil,
        destinations: [any DestinationFactory], retentions: [any RetentionPolicyFactory],
        notifiers: [any NotifierFactory] = [], defaults: [PluginKind: String]
    ) {
        self.sources = sources
        self.compressors = compressors
        self.encryptions = encryptions
        self.encryptionOff = encryptionOff
        self.destinations = destinations
        self.retentions = retentions
        self.notifiers = notifiers
        self.defaults = defaults
        let names = all.map(\.name)
        precondition(Set(names).count == names.count, "duplicate plugin name in \(names)")
        precondition(encryptionOff.map { off in !encryptions.contains { $0.name == off } } ?? true,
                     "encryptionOff names an encryption plugin")
        for (kind, name) in defaults {
            precondition(self.names(of: kind).contains(name), "default \(kind) '\(name)' is not registered")
        }
    }

    /// Every factory, of every role.
    public var all: [any PluginFactory] { sources + compressors + encryptions + destinations + retentions + notifiers }

    public func names(of kind: PluginKind) -> [String] {
        switch kind {
        case .source: sources.map(\.name)
        case .compressor: compressors.map(\.name)
        case .encryption: encryptions.map(\.name)
        case .destination: destinations.map(\.name)
        case .retention: retentions.map(\.name)
        }
    }

    /// The factory of `factories` called `name`, else the one that was called so in an earlier release
    /// (``PluginFactory/formerNames``).
    public static func named<Factory>(_ name: String, in factories: [Factory]) -> Factory? {
        func factory(_ element: Factory) -> (any PluginFactory)? { element as? any PluginFactory }
        return factories.first { factory($0)?.name == name }
            ?? factories.first { factory($0)?.formerNames.contains(name) == true }
    }

    public func factory(named name: String) -> (any PluginFactory)? {
        all.first { $0.name == name }
    }

    /// The destination and object name `location` means to the first destination plugin that reads it
    /// (a path, a URL), with `job`'s settings of that plugin; nil when none does.
    public func resolve(location: String, job: Job) throws -> (destination: any Destination, name: String)? {
        for factory in destinations {
            let settings = job.pluginSettings[factory.name] ?? PluginSettings(plugin: factory.name, values: [:])
            if let found = try factory.resolve(location: location, settings: settings) { return found }
        }
        return nil
    }

    /// The stage a manifest entry names, made with `settings` of its plugin (a job's, which may hold the key
    /// a decoder needs), else its defaults: what reads a backup whatever the job is configured to write now.
    public func stage(for record: StageRecord, settings given: PluginSettings? = nil) throws -> any Stage {
        let factories: [any PluginFactory] = switch PluginKind(rawValue: record.kind) {
        case .compressor: compressors
        case .encryption: encryptions
        default: []
        }
        guard let factory = factories.first(where: { $0.name == record.name }) else {
            let known = factories.isEmpty ? "" : "; known: \(factories.map(\.name).joined(separator: ", "))"
            throw BackupError(.notFound, "the backup went through the \(record.kind) '\(record.name)', "
                              + "which this build does not know\(known)")
        }
        var values: [String: String] = [:]
        for key in factory.keys { values[key.name] = key.defaultValue }
        let settings = given ?? PluginSettings(plugin: factory.name, values: values)
        do {
            switch factory {
            case let compressor as any CompressorFactory: return try compressor.make(settings)
            case let encryption as any EncryptionFactory: return try encryption.makeForReading(settings)
            default: throw BackupError(.notFound, "'\(record.name)' is not a stage")
            }
        } catch let error as SettingError {
            throw BackupError(.config, "\(factory.name).\(error.key): \(error.message)")
        }
    }
}
