/// Making the plugins a job chose, each from its settings. A plugin's ``SettingError`` becomes a
/// ``ConfigError`` at the line that set the key, which ``attributing(to:in:file:_:)`` finds.
extension JobLoader {
    /// The plugins of one job, made.
    struct MadePlugins {
        var source: any Source
        var stages: [JobStage]
        var retention: any RetentionPolicy
        var destinations: [JobDestination]
        var notifiers: [any Notifier]
    }

    /// Made in this order, so the first one's mistake is the one reported.
    func makePlugins(_ choice: PluginChoice, in entries: [ConfigEntry], file: String) throws(ConfigError)
        -> MadePlugins
    {
        let source = try attributing(to: choice.source.name, in: entries, file: file) {
            try choice.source.make(settings(of: choice.source, in: entries))
        }
        let stages = try stages(choice, in: entries, file: file)
        let retention = try attributing(to: choice.retention.name, in: entries, file: file) {
            try choice.retention.make(settings(of: choice.retention, in: entries))
        }
        let destinations = try destinations(choice.destinations, jobs: (choice.retention, retention),
                                            in: entries, file: file)
        let notifiers = try choice.notifiers.map { (factory) throws(ConfigError) -> any Notifier in
            try attributing(to: factory.name, in: entries, file: file) {
                try factory.make(settings(of: factory, in: entries))
            }
        }
        return MadePlugins(source: source, stages: stages, retention: retention, destinations: destinations,
                           notifiers: notifiers)
    }

    /// The compressor, then the encryption when the job has one (made for reading when the loader is).
    private func stages(_ choice: PluginChoice, in entries: [ConfigEntry], file: String) throws(ConfigError)
        -> [JobStage]
    {
        let compressor = choice.compressor
        let compressing = try attributing(to: compressor.name, in: entries, file: file) {
            try compressor.make(settings(of: compressor, in: entries))
        }
        guard let encryption = choice.encryption else { return [JobStage(.compressor, compressing)] }
        let encryptionSettings = settings(of: encryption, in: entries)
        let encrypting = try attributing(to: encryption.name, in: entries, file: file) {
            try forReading ? encryption.makeForReading(encryptionSettings) : encryption.make(encryptionSettings)
        }
        return [JobStage(.compressor, compressing), JobStage(.encryption, encrypting)]
    }

    /// Each destination instance, made from its settings, with the retention it applies. Two instances of one
    /// plugin with the same settings would store into one place.
    private func destinations(
        _ instances: [DestinationInstance], jobs: (factory: any RetentionPolicyFactory, policy: any RetentionPolicy),
        in entries: [ConfigEntry], file: String
    ) throws(ConfigError) -> [JobDestination] {
        var places: [(instance: DestinationInstance, values: [String: String])] = []
        var destinations: [JobDestination] = []
        for instance in instances {
            let values = values(of: instance, in: entries)
            let plugin = instance.factory.name
            if let same = places.first(where: { $0.instance.factory.name == plugin && $0.values == values }) {
                let message = "\(same.instance.name) and \(instance.name) have the same settings, so they would store "
                    + "into one place; give \(instance.name) its own keys (\(instance.name).…)"
                throw located(SettingError(key: "destination", message: message), in: entries, file: file)
            }
            places.append((instance, values))
            let destination = try attributing(to: instance.name, instance.factory.name, in: entries, file: file) {
                try instance.factory.make(PluginSettings(plugin: instance.name, values: values))
            }
            let policy = try retentionPolicy(of: instance, jobs: jobs, in: entries, file: file)
            destinations.append(JobDestination(name: instance.name, destination: destination, retention: policy))
        }
        return destinations
    }

    /// The instance's own retention, when it or its plugin has any key of one, else the job's.
    private func retentionPolicy(
        of instance: DestinationInstance, jobs: (factory: any RetentionPolicyFactory, policy: any RetentionPolicy),
        in entries: [ConfigEntry], file: String
    ) throws(ConfigError) -> any RetentionPolicy {
        let kept = retention(of: instance, in: entries, jobs: jobs.factory)
        guard kept.own else { return jobs.policy }
        let scopes = [instance.name, instance.factory.name].map { "\($0).\(kept.factory.name)" }
        return try attributing(to: scopes[0], scopes[1], in: entries, file: file) {
            try kept.factory.make(kept.settings)
        }
    }

    /// Runs `make`, which makes a plugin: a ``SettingError`` it throws becomes a ``ConfigError`` at the line
    /// that set the key (``located(_:scopes:in:file:)``), any other error one that names no line.
    /// `scopes`: the prefixes of the plugin's keys, most specific first (`b@eu`, then its plugin's `b`).
    func attributing<Made>(to scopes: String..., in entries: [ConfigEntry], file: String,
                           _ make: () throws -> Made) throws(ConfigError) -> Made {
        do {
            return try make()
        } catch let error as SettingError {
            throw located(error, scopes: scopes, in: entries, file: file)
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "\(error)")
        }
    }

    /// `error` at the entry that set its key: `<first scope>.<key>` if the job sets it, else the last entry of
    /// the key under another scope or bare; without an entry, at the file, named under the first scope.
    func located(_ error: SettingError, scopes: [String] = [], in entries: [ConfigEntry], file: String)
        -> ConfigError
    {
        let keys = scopes.map { "\($0).\(error.key)" } + [error.key]
        let entry = entries.last { $0.key == keys[0] } ?? entries.last { keys.dropFirst().contains($0.key) }
        return ConfigError(file: entry?.file ?? file, line: entry?.line, key: entry?.key ?? keys[0],
                           message: error.message)
    }
}
