import Foundation

/// The second step of making a job: which plugin fills each role, before any is made, and whether the job
/// sets the keys those plugins require.
extension JobLoader {
    /// The plugins a job's keys choose.
    struct PluginChoice {
        var source: any SourceFactory
        var compressor: any CompressorFactory
        var encryption: (any EncryptionFactory)?
        var destinations: [DestinationInstance]
        var retention: any RetentionPolicyFactory
        var notifiers: [any NotifierFactory]

        /// Every chosen plugin once, in the order `check-config` lists their keys: the roles, then notifiers.
        var factories: [any PluginFactory] {
            var chosen: [any PluginFactory] = [source, compressor] + (encryption.map { [$0] } ?? [])
            for instance in destinations where !chosen.contains(where: { $0.name == instance.factory.name }) {
                chosen.append(instance.factory)
            }
            return chosen + [retention] + notifiers
        }
    }

    /// `own`: the settings the job's section sets itself (nil: the file has no sections).
    func choosePlugins(_ entries: [ConfigEntry], file: String, own: Set<String>?) throws(ConfigError)
        -> PluginChoice
    {
        let choice = PluginChoice(
            source: try pick(.source, from: registry.sources, in: entries, file: file),
            compressor: try pick(.compressor, from: registry.compressors, in: entries, file: file),
            encryption: try pickEncryption(entries, file: file),
            destinations: try destinationInstances(entries, file: file, own: own),
            retention: try pick(.retention, from: registry.retentions, in: entries, file: file),
            notifiers: try pickNotifiers(entries, file: file))
        try checkRequiredKeys(of: choice, in: entries, file: file)
        return choice
    }

    /// The factory the job names for `kind` (or the registry's default), typed for its role.
    private func pick<Factory>(_ kind: PluginKind, from factories: [Factory], in entries: [ConfigEntry],
                               file: String) throws(ConfigError) -> Factory {
        let entry = entries.last { $0.key == kind.rawValue }
        let name = entry?.value ?? registry.defaults[kind] ?? ""
        guard let factory = PluginRegistry.named(name, in: factories) else {
            let known = registry.names(of: kind).joined(separator: ", ")
            throw ConfigError(file: entry?.file ?? file, line: entry?.line, key: kind.rawValue,
                              message: "unknown \(kind.rawValue) '\(name)'; known: \(known)")
        }
        return factory
    }

    /// The encryption plugin `encryption` names; nil when it is not set or is the registry's
    /// ``PluginRegistry/encryptionOff``.
    private func pickEncryption(_ entries: [ConfigEntry], file: String) throws(ConfigError)
        -> (any EncryptionFactory)?
    {
        guard let entry = entries.last(where: { $0.key == PluginKind.encryption.rawValue }),
              entry.value != registry.encryptionOff
        else { return nil }
        guard let factory = PluginRegistry.named(entry.value, in: registry.encryptions) else {
            let known = (registry.encryptionOff.map { [$0] } ?? []) + registry.names(of: .encryption)
            throw ConfigError(file: entry.file, line: entry.line, key: entry.key,
                              message: "unknown encryption '\(entry.value)'; known: \(known.joined(separator: ", "))")
        }
        return factory
    }

    /// The factories `notify` names, in order, each once.
    private func pickNotifiers(_ entries: [ConfigEntry], file: String) throws(ConfigError)
        -> [any NotifierFactory]
    {
        guard let entry = entries.last(where: { $0.key == "notify" }) else { return [] }
        let known = registry.notifiers.map(\.name)
        var picked: [any NotifierFactory] = []
        let names = entry.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where !name.isEmpty {
            guard let factory = registry.notifiers.first(where: { $0.name == name }) else {
                throw ConfigError(file: entry.file, line: entry.line, key: "notify",
                                  message: "unknown notifier '\(name)'; known: \(known.joined(separator: ", "))")
            }
            if !picked.contains(where: { $0.name == name }) { picked.append(factory) }
        }
        return picked
    }

    /// The first required key without a default that the job does not set: a destination instance's first
    /// (its own key or its plugin's), then any other chosen plugin's.
    private func checkRequiredKeys(of choice: PluginChoice, in entries: [ConfigEntry], file: String)
        throws(ConfigError)
    {
        for instance in choice.destinations {
            if let missing = missingKey(of: instance, in: entries) {
                throw ConfigError(file: file, line: nil, key: missing.key,
                                  message: "missing; \(instance.name) needs it (\(missing.summary))")
            }
        }
        for factory in choice.factories where !(factory is any DestinationFactory) {
            for spec in factory.keys where spec.required && spec.defaultValue == nil {
                let key = "\(factory.name).\(spec.name)"
                guard !entries.contains(where: { $0.key == key }) else { continue }
                throw ConfigError(file: file, line: nil, key: key,
                                  message: "missing; \(factory.name) needs it (\(spec.summary))")
            }
        }
    }
}
