/// `check-config`'s lines for a job, secrets redacted: the engine's keys, each chosen plugin's, then those
/// scoped to one destination.
extension JobLoader {
    func effectiveSettings(_ choice: PluginChoice, in entries: [ConfigEntry]) -> [EffectiveSetting] {
        effectiveCore(entries) + choice.factories.flatMap { effectiveSettings(of: $0, in: entries) }
            + effectiveScopedSettings(entries)
    }

    private func effectiveCore(_ entries: [ConfigEntry]) -> [EffectiveSetting] {
        Self.coreKeys.compactMap { spec in
            let entry = entries.last { $0.key == spec.name }
            let chosen = PluginKind(rawValue: spec.name).flatMap { registry.defaults[$0] }
            guard let value = entry?.value ?? spec.defaultValue ?? chosen else { return nil }
            return EffectiveSetting(key: spec.name, value: spec.secret ? "<redacted>" : value,
                                    origin: entry.map(Self.origin) ?? "default")
        }
    }

    private func effectiveSettings(of factory: any PluginFactory, in entries: [ConfigEntry]) -> [EffectiveSetting] {
        factory.keys.compactMap { spec in
            let key = "\(factory.name).\(spec.name)"
            let entry = entries.last { $0.key == key }
            guard let value = entry?.value ?? spec.defaultValue else { return nil }
            return EffectiveSetting(key: key, value: spec.secret ? "<redacted>" : value,
                                    origin: entry.map(Self.origin) ?? "default")
        }
    }
}
