import Foundation

/// Several destinations per job. An instance's keys (`b@eu.bucket`) override its plugin's (`b.bucket`),
/// so settings two buckets share (credentials, endpoint) are written once. Each destination may have its
/// own retention: `b.retention = p` and `b.p.days = 7` for a retention plugin `p`, each falling back to
/// the plugin's (`b.…` for `b@eu`) and then to the job's (`retention`, `p.days`).
extension JobLoader {
    /// The instance and the rest of `key`, when `key` is `<destination instance>.<rest>`.
    func destinationScoped(_ key: String) -> (instance: String, factory: any DestinationFactory, rest: String)? {
        guard let dot = key.firstIndex(of: ".") else { return nil }
        let head = String(key[..<dot])
        let parts = head.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard let factory = registry.destinations.first(where: { $0.name == parts[0] }) else { return nil }
        if parts.count == 2, !Self.isLabel(parts[1]) { return nil }
        return (head, factory, String(key[key.index(after: dot)...]))
    }

    /// The spec of a destination-scoped key: its own retention, that retention's keys, or (for a labelled
    /// instance) the plugin's keys. Nil when the key is not destination-scoped.
    func destinationScopedSpec(_ key: String) -> KeySpec? {
        guard let scoped = destinationScoped(key) else { return nil }
        if scoped.rest == "retention" {
            let names = registry.retentions.map(\.name) + registry.retentions.flatMap(\.formerNames)
            return KeySpec("retention", .choice(names),
                           summary: "this destination's retention plugin (default: the job's)")
        }
        if let dot = scoped.rest.firstIndex(of: "."),
           let retention = registry.retentions.first(where: { $0.name == scoped.rest[..<dot] }) {
            let name = String(scoped.rest[scoped.rest.index(after: dot)...])
            return retention.keys.first { $0.name == name }
        }
        guard scoped.instance.contains("@") else { return nil }
        return scoped.factory.keys.first { $0.name == scoped.rest }
    }

    static func isLabel<S: StringProtocol>(_ label: S) -> Bool {
        !label.isEmpty && label.count <= 64
            && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// The job's destinations, from `destination` (default: the registry's), each named once.
    /// `own`: the settings the job's section sets itself, nil when all are the job's (no sections).
    func destinationInstances(_ entries: [ConfigEntry], file: String, own: Set<String>?) throws(ConfigError)
        -> [DestinationInstance]
    {
        let entry = entries.last { $0.key == "destination" }
        let value = entry?.value ?? registry.defaults[.destination] ?? ""
        func error(_ message: String) -> ConfigError {
            ConfigError(file: entry?.file ?? file, line: entry?.line, key: "destination", message: message)
        }
        var instances: [DestinationInstance] = []
        let known = registry.names(of: .destination).joined(separator: ", ")
        let example = registry.destinations.last?.name ?? "x"
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            let name = item.trimmingCharacters(in: .whitespaces)
            let parts = name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
            guard let factory = registry.destinations.first(where: { $0.name == parts[0] }) else {
                throw error(name.isEmpty ? "an empty entry; list destinations separated by commas, e.g. \(known)"
                                         : "unknown destination '\(parts[0])'; known: \(known)")
            }
            if parts.count == 2, !Self.isLabel(parts[1]) {
                throw error("'\(name)': after '@' comes a label of letters, digits and '_', as in \(example)@eu")
            }
            guard !instances.contains(where: { $0.name == name }) else {
                throw error("'\(name)' is listed twice; a second destination of one plugin needs a label, "
                            + "as in \(example)@eu")
            }
            instances.append(DestinationInstance(name: name, factory: factory))
        }
        // Keys of an instance the job does not use are a mistake, not a harmless leftover; inherited ones
        // (defaults several jobs share) are not the job's mistake.
        let names = Set(instances.map(\.name))
        for entry in entries where own?.contains(entry.key) ?? true {
            guard let scoped = destinationScoped(entry.key), scoped.instance.contains("@"),
                  !names.contains(scoped.instance)
            else { continue }
            throw ConfigError(file: entry.file, line: entry.line, key: entry.key,
                              message: "\(scoped.instance) is not one of this job's destinations "
                                  + "(destination = \(value)); add it there or remove this key")
        }
        return instances
    }

    /// The value of `key` for `instance`: its own, else its plugin's, else nil.
    private func scopedValue(_ key: String, of instance: DestinationInstance, in entries: [ConfigEntry])
        -> ConfigEntry?
    {
        entries.last { $0.key == "\(instance.name).\(key)" }
            ?? entries.last { $0.key == "\(instance.factory.name).\(key)" }
    }

    /// The instance's plugin settings: its own keys over its plugin's, over the defaults.
    func settings(of instance: DestinationInstance, in entries: [ConfigEntry]) -> PluginSettings {
        PluginSettings(plugin: instance.name, values: values(of: instance, in: entries))
    }

    func values(of instance: DestinationInstance, in entries: [ConfigEntry]) -> [String: String] {
        var values: [String: String] = [:]
        for spec in instance.factory.keys {
            values[spec.name] = scopedValue(spec.name, of: instance, in: entries)?.value ?? spec.defaultValue
        }
        return values
    }

    /// The instance's retention plugin and its settings: the destination's own, else the job's.
    func retention(of instance: DestinationInstance, in entries: [ConfigEntry], jobs: any RetentionPolicyFactory)
        -> (factory: any RetentionPolicyFactory, settings: PluginSettings, own: Bool)
    {
        let chosen = scopedValue("retention", of: instance, in: entries)?.value
        let factory = chosen.flatMap { PluginRegistry.named($0, in: registry.retentions) } ?? jobs
        var values: [String: String] = [:]
        var own = chosen != nil
        for spec in factory.keys {
            let key = "\(factory.name).\(spec.name)"
            if let entry = scopedValue(key, of: instance, in: entries) {
                values[spec.name] = entry.value
                own = true
            } else {
                values[spec.name] = entries.last { $0.key == key }?.value ?? spec.defaultValue
            }
        }
        return (factory, PluginSettings(plugin: factory.name, values: values), own)
    }

    /// Required keys an instance lacks: the first, named as the instance's key.
    func missingKey(of instance: DestinationInstance, in entries: [ConfigEntry]) -> (key: String, summary: String)? {
        for spec in instance.factory.keys where spec.required && spec.defaultValue == nil {
            if scopedValue(spec.name, of: instance, in: entries) == nil {
                return ("\(instance.name).\(spec.name)", spec.summary)
            }
        }
        return nil
    }

    /// check-config's lines for an instance's own keys (`b@eu.…`) and per-destination retention keys.
    func effectiveScopedSettings(_ entries: [ConfigEntry]) -> [EffectiveSetting] {
        entries.compactMap { entry in
            guard destinationScoped(entry.key) != nil, let spec = destinationScopedSpec(entry.key) else { return nil }
            return EffectiveSetting(key: entry.key, value: spec.secret ? "<redacted>" : entry.value,
                                    origin: entry.line.map { "\(entry.file):\($0)" } ?? entry.file)
        }
    }
}
