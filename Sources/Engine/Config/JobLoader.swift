import Foundation

/// Turns a parsed configuration into jobs: rejects unknown keys and plugins, validates values, applies
/// defaults, reads `*_file` keys, and asks each selected plugin's factory to make it.
public struct JobLoader: Sendable {
    /// The engine's own keys; everything else belongs to a plugin as `<plugin>.<key>`.
    public static let coreKeys: [KeySpec] = [
        KeySpec("source", .string, summary: "the source plugin"),
        KeySpec("compressor", .string, summary: "the compressor plugin"),
        KeySpec("encryption", .string, summary: "the encryption plugin applied after the compressor (default: none)"),
        KeySpec("destination", .string, summary: "the destination plugins, comma-separated: one dump is stored at each (a second of one plugin is labelled, `<plugin>@eu`)"),
        KeySpec("retention", .string, summary: "the retention plugin"),
        KeySpec("interval", .duration, default: "24h", summary: "time between backups in `backup run`"),
        KeySpec("schedule", .string, summary: "cron schedule for `backup run` (5 fields or @hourly/@daily/@weekly/@monthly/@yearly), instead of interval"),
        KeySpec("catch_up", .boolean, default: "true", summary: "at start, run a job at once when its newest backup is older than one schedule period"),
        KeySpec("verify", .choice(["off", "after-backup"]), default: "off",
                summary: "after-backup: each new backup is restored into a scratch database and its row counts checked"),
        KeySpec("retention.check", .choice(["size", "checksum"]), default: "size",
                summary: "before deleting, prove the kept backups by size (and failed verifications), or also re-hash them"),
        KeySpec("timezone", .string, summary: "Area/City for calendar-based retention (default: $TZ, else UTC)"),
        KeySpec("notify", .string, summary: "notifier plugins told about runs, comma-separated, e.g. `webhook, slack` (default: none)"),
        KeySpec("notify.on", .choice(["failure", "always"]), default: "failure", summary: "notify on failures only, or after every run"),
        KeySpec("notify.timeout", .duration, default: "10s", summary: "how long a notifier may take before it is given up (the backup never waits longer)"),
        KeySpec("lock.lease", .duration, default: "5m",
                summary: "where the job's lock is a lease (object storage), how long a lock lasts unless renewed (every third of it): a killed run's lock is taken over after this"),
    ]

    public let registry: PluginRegistry
    /// Keys of the process that runs the jobs (the runner's, e.g. `log.format`), not of any job: validated
    /// here, read from the top of the file (or, as earlier releases did, the first job that sets them).
    public let processKeys: [KeySpec]
    /// The timezone when a job sets none: `$TZ`, else UTC.
    public let defaultTimeZone: String
    public let readFile: @Sendable (String) throws -> String
    /// Jobs for the commands that only read backups (restore, verify): stages are made for reading, so a
    /// reader may hold what only writing forbids together (age: a passphrase beside recipients).
    public let forReading: Bool

    /// A `_file` key's file as UTF-8 text; also a device such as `/dev/null` (an empty value), which
    /// `String(contentsOfFile:)` refuses.
    public static func readTextFile(_ path: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        guard let text = String(data: try handle.readToEnd() ?? Data(), encoding: .utf8) else {
            throw CocoaError(.fileReadInapplicableStringEncoding)
        }
        return text
    }

    public init(
        registry: PluginRegistry, processKeys: [KeySpec] = [],
        readFile: @escaping @Sendable (String) throws -> String = JobLoader.readTextFile,
        defaultTimeZone: String = ProcessInfo.processInfo.environment["TZ"].flatMap { $0.isEmpty ? nil : $0 } ?? "UTC",
        forReading: Bool = false
    ) {
        self.registry = registry
        self.forReading = forReading
        self.processKeys = processKeys
        self.defaultTimeZone = defaultTimeZone
        self.readFile = readFile
    }

    public func load(_ document: ConfigDocument) throws(ConfigError) -> [Job] {
        try loadConfiguration(document).jobs
    }

    /// The process's settings (``processKeys``, defaults applied, with where each came from) and the jobs.
    public func loadConfiguration(_ document: ConfigDocument) throws(ConfigError)
        -> (process: PluginSettings, processSettings: [EffectiveSetting], jobs: [Job])
    {
        let jobs = try loadJobs(document)
        let first = document.sections.first?.entries ?? []
        var values: [String: String] = [:]
        var effective: [EffectiveSetting] = []
        for spec in processKeys {
            // As earlier releases read them: the first job's value (its own, else the top of the file's);
            // for an integer (`parallel`), the largest any job has.
            var entry = first.last { $0.key == spec.name } ?? document.defaults.last { $0.key == spec.name }
            if case .integer = spec.kind {
                for section in document.sections {
                    guard let own = section.entries.last(where: { $0.key == spec.name }) else { continue }
                    if (Int(own.value) ?? 0) > (Int(entry?.value ?? spec.defaultValue ?? "") ?? 0) { entry = own }
                }
            }
            guard let value = entry?.value ?? spec.defaultValue else { continue }
            values[spec.name] = value
            effective.append(EffectiveSetting(key: spec.name, value: spec.secret ? "<redacted>" : value,
                                              origin: entry.map(Self.origin) ?? "default"))
        }
        return (PluginSettings(plugin: "process", values: values), effective, jobs)
    }

    private func loadJobs(_ document: ConfigDocument) throws(ConfigError) -> [Job] {
        let defaults = try canonical(document.defaults)
        if document.sections.isEmpty {
            let entries = try resolveFileKeys(defaults, file: document.file)
            let name = try defaultJobName(entries, file: document.file)
            return [try makeJob(name: name, entries: entries, file: document.file)]
        }
        return try document.sections.map { (section) throws(ConfigError) -> Job in
            // A section's `x` or `x_file` replaces an inherited `x` and `x_file` alike.
            let own = try canonical(section.entries)
            let overridden = Set(own.map { settingName($0.key) })
            let merged = defaults.filter { !overridden.contains(settingName($0.key)) } + own
            let entries = try resolveFileKeys(merged, file: document.file)
            return try makeJob(name: section.name, entries: entries, file: document.file, own: overridden)
        }
    }

    private func defaultJobName(_ entries: [ConfigEntry], file: String) throws(ConfigError) -> String {
        let sourceName = entries.last { $0.key == "source" }?.value ?? registry.defaults[.source] ?? ""
        guard let factory = registry.sources.first(where: { $0.name == sourceName }) else { return "backup" }
        let settings = PluginSettings(plugin: factory.name, values: values(for: factory, in: entries))
        guard let name = factory.defaultJobName(settings) else { return "backup" }
        guard JobName.isValid(name) else {
            throw ConfigError(file: file, line: nil, key: nil, message:
                "cannot name the job after '\(name)'; add a [jobname] section using letters, digits, '-', '.', '_'")
        }
        return name
    }

    /// Entries with keys of earlier releases (a ``KeySpec``'s aliases, and their `_file` forms) renamed to
    /// the keys that replaced them; both names in one list is an error.
    private func canonical(_ entries: [ConfigEntry]) throws(ConfigError) -> [ConfigEntry] {
        var renamed: [ConfigEntry] = []
        var written: [String: String] = [:]
        for var entry in entries {
            let original = entry.key
            if let key = Self.renamed(entry.key, registry: registry) {
                entry.key = key
            } else if entry.key.hasSuffix("_file"), let key = Self.renamed(String(entry.key.dropLast(5)), registry: registry) {
                entry.key = key + "_file"
            }
            if let other = written[entry.key], other != original {
                throw ConfigError(file: entry.file, line: entry.line, key: original,
                                  message: "\(other) is also set and means the same; keep only \(entry.key)")
            }
            written[entry.key] = original
            renamed.append(entry)
        }
        return renamed
    }

    /// The key that replaced `key`, when `key` is an alias a registered plugin declares.
    private static func renamed(_ key: String, registry: PluginRegistry) -> String? {
        for factory in registry.all {
            if let spec = factory.keys.first(where: { $0.aliases.contains(key) }) { return "\(factory.name).\(spec.name)" }
        }
        return nil
    }

    /// `x_file = /path` becomes `x = <contents of /path>` (trailing newlines dropped), as Kubernetes mounts
    /// secrets as files.
    private func resolveFileKeys(_ entries: [ConfigEntry], file: String) throws(ConfigError) -> [ConfigEntry] {
        let keys = Set(entries.map(\.key))
        var resolved: [ConfigEntry] = []
        for entry in entries {
            guard entry.key.hasSuffix("_file"), !isDeclared(entry.key) else {
                resolved.append(entry)
                continue
            }
            let base = String(entry.key.dropLast(5))
            if keys.contains(base) {
                throw ConfigError(file: entry.file, line: entry.line, key: entry.key,
                                  message: "\(base) is also set; keep only one of \(base) and \(entry.key)")
            }
            let contents: String
            do {
                contents = try readFile(entry.value)
            } catch {
                throw ConfigError(file: entry.file, line: entry.line, key: entry.key,
                                  message: "cannot read '\(entry.value)'; check the path and the secret mount")
            }
            var value = Substring(contents)
            while value.last?.isNewline == true { value = value.dropLast() }
            resolved.append(ConfigEntry(key: base, value: String(value), file: entry.file, line: entry.line))
        }
        return resolved
    }

    private func isDeclared(_ key: String) -> Bool { spec(for: key) != nil }

    /// True when `key`, or the setting its `_file` form sets, holds a secret.
    public func isSecret(_ key: String) -> Bool {
        spec(for: key.hasSuffix("_file") && !isDeclared(key) ? String(key.dropLast(5)) : key)?.secret == true
    }

    /// The setting a key sets: `x` for both `x` and an undeclared `x_file`.
    /// `schedule` and `interval` are two ways to say when, so a job's one replaces an inherited other.
    private func settingName(_ key: String) -> String {
        if key == "interval" || key == "schedule" { return "when" }
        return key.hasSuffix("_file") && !isDeclared(key) ? String(key.dropLast(5)) : key
    }

    func spec(for key: String) -> KeySpec? {
        if let core = (Self.coreKeys + processKeys).first(where: { $0.name == key }) { return core }
        if let scoped = destinationScopedSpec(key) { return scoped }
        guard let dot = key.firstIndex(of: "."), let factory = registry.factory(named: String(key[..<dot]))
        else { return nil }
        let name = String(key[key.index(after: dot)...])
        return factory.keys.first { $0.name == name }
    }

    private var allKeys: [String] {
        (Self.coreKeys + processKeys).map(\.name) + registry.all.flatMap { factory in factory.keys.map { "\(factory.name).\($0.name)" } }
    }

    /// `own`: the settings the job's section sets itself (nil: the file has no sections).
    private func makeJob(name: String, entries: [ConfigEntry], file: String, own: Set<String>? = nil) throws(ConfigError) -> Job {
        for entry in entries {
            guard let spec = spec(for: entry.key) else {
                let near = NearestKeys.find(entry.key, among: allKeys)
                let hint = near.isEmpty ? "" : "; did you mean \(near.joined(separator: " or "))?"
                throw ConfigError(file: entry.file, line: entry.line, key: entry.key, message: "unknown key\(hint)")
            }
            if let problem = spec.problem(with: entry.value) {
                throw ConfigError(file: entry.file, line: entry.line, key: entry.key, message: problem)
            }
        }
        /// The factory the job names for `kind` (or the registry's default), typed for its role.
        func pick<Factory>(_ kind: PluginKind, from factories: [Factory]) throws(ConfigError) -> Factory {
            let entry = entries.last { $0.key == kind.rawValue }
            let name = entry?.value ?? registry.defaults[kind] ?? ""
            guard let factory = PluginRegistry.named(name, in: factories) else {
                throw ConfigError(file: entry?.file ?? file, line: entry?.line, key: kind.rawValue,
                                  message: "unknown \(kind.rawValue) '\(name)'; known: \(registry.names(of: kind).joined(separator: ", "))")
            }
            return factory
        }
        let sourceFactory = try pick(.source, from: registry.sources)
        let compressorFactory = try pick(.compressor, from: registry.compressors)
        let encryptionFactory = try pickEncryption(entries, file: file)
        let instances = try destinationInstances(entries, file: file, own: own)
        let retentionFactory = try pick(.retention, from: registry.retentions)
        var chosen: [any PluginFactory] = [sourceFactory, compressorFactory] + (encryptionFactory.map { [$0] } ?? [])
        for instance in instances where !chosen.contains(where: { $0.name == instance.factory.name }) {
            chosen.append(instance.factory)
        }
        chosen.append(retentionFactory)
        let notifying = try pickNotifiers(entries, file: file)
        var effective = effectiveCore(entries)
        for instance in instances {
            if let missing = missingKey(of: instance, in: entries) {
                throw ConfigError(file: file, line: nil, key: missing.key,
                                  message: "missing; \(instance.name) needs it (\(missing.summary))")
            }
        }
        for factory in chosen + notifying {
            for spec in factory.keys where spec.required && spec.defaultValue == nil && !(factory is any DestinationFactory) {
                if !entries.contains(where: { $0.key == "\(factory.name).\(spec.name)" }) {
                    throw ConfigError(file: file, line: nil, key: "\(factory.name).\(spec.name)",
                                      message: "missing; \(factory.name) needs it (\(spec.summary))")
                }
            }
            effective += effectiveSettings(of: factory, in: entries)
        }
        effective += effectiveScopedSettings(entries)
        func settings(_ factory: any PluginFactory) -> PluginSettings {
            PluginSettings(plugin: factory.name, values: values(for: factory, in: entries))
        }
        // The plugin (or destination instance) being made, so its SettingError is pinned on its own key,
        // not another plugin's namesake.
        var making: String?
        do {
            let zoneName = entries.last { $0.key == "timezone" }?.value ?? defaultTimeZone
            guard let timeZone = TimeZone(identifier: zoneName) else {
                throw SettingError(key: "timezone", message: "'\(zoneName)' is not a timezone; write Area/City, e.g. Europe/Berlin, or UTC")
            }
            var schedule: CronSchedule?
            if let text = entries.last(where: { $0.key == "schedule" })?.value {
                guard !entries.contains(where: { $0.key == "interval" }) else {
                    throw SettingError(key: "schedule", message: "set either schedule or interval for a job, not both")
                }
                schedule = try CronSchedule(text)
            }
            let interval = DurationParser.seconds(entries.last { $0.key == "interval" }?.value ?? "24h") ?? 86_400
            guard interval >= 1 else { throw SettingError(key: "interval", message: "must be at least 1s") }
            making = sourceFactory.name
            let source = try sourceFactory.make(settings(sourceFactory))
            making = compressorFactory.name
            let compressor = try compressorFactory.make(settings(compressorFactory))
            var stages = [JobStage(.compressor, compressor)]
            if let encryptionFactory {
                making = encryptionFactory.name
                let settings = settings(encryptionFactory)
                stages.append(JobStage(.encryption, try forReading ? encryptionFactory.makeForReading(settings) : encryptionFactory.make(settings)))
            }
            making = retentionFactory.name
            let retention = try retentionFactory.make(settings(retentionFactory))
            var destinations: [JobDestination] = []
            var places: [(name: String, plugin: String, values: [String: String])] = []
            for instance in instances {
                let own = self.values(of: instance, in: entries)
                if let same = places.first(where: { $0.plugin == instance.factory.name && $0.values == own }) {
                    making = nil
                    throw SettingError(key: "destination", message: "\(same.name) and \(instance.name) have the same settings, so they would store into one place; give \(instance.name) its own keys (\(instance.name).…)")
                }
                places.append((instance.name, instance.factory.name, own))
                making = instance.name
                let destination = try instance.factory.make(PluginSettings(plugin: instance.name, values: own))
                let kept = self.retention(of: instance, in: entries, jobs: retentionFactory)
                making = kept.own ? "\(instance.name).\(kept.factory.name)" : kept.factory.name
                let policy = kept.own ? try kept.factory.make(kept.settings) : retention
                destinations.append(JobDestination(name: instance.name, destination: destination, retention: policy))
            }
            var notifiers: [any Notifier] = []
            for factory in notifying {
                making = factory.name
                notifiers.append(try factory.make(settings(factory)))
            }
            making = nil
            let verifyAfterBackup = entries.last { $0.key == "verify" }?.value == "after-backup"
            if verifyAfterBackup, let encryption = stages.last(where: { $0.kind == .encryption }) {
                // Verifying restores the backup, so it needs the key a pod that only encrypts does not hold.
                do {
                    _ = try encryption.stage.makeDecoder(for: StageRecord(encryption.stage, kind: .encryption))
                } catch {
                    throw SettingError(key: "verify", message: "after-backup restores each backup, which needs the key that decrypts it: \(error); or set verify = off and run `backup verify` where the key is")
                }
            }
            let lease = DurationParser.seconds(entries.last { $0.key == "lock.lease" }?.value ?? "300") ?? 300
            guard lease >= 3 else { throw SettingError(key: "lock.lease", message: "must be at least 3s") }
            func value(_ key: String) -> String? { entries.last { $0.key == key }?.value }
            return Job(
                name: name, source: source, stages: stages, destinations: destinations, retention: retention,
                interval: interval, retentionCheck: RetentionCheck(rawValue: value("retention.check") ?? "size") ?? .size,
                verifyAfterBackup: verifyAfterBackup, schedule: schedule,
                catchUp: KeySpec.isTrue(value("catch_up") ?? "true"), timeZone: timeZone, notifiers: notifiers,
                notifyWhen: NotifyWhen(rawValue: value("notify.on") ?? "failure") ?? .failure,
                notifyTimeout: DurationParser.seconds(value("notify.timeout") ?? "10s") ?? 10,
                lockLease: .milliseconds(Int64(lease * 1000)), settings: effective,
                pluginSettings: Dictionary(uniqueKeysWithValues: registry.all.map { ($0.name, settings($0)) }))
        } catch let error as SettingError {
            let key = making.map { "\($0).\(error.key)" } ?? error.key
            // An instance's key may be set on its plugin (`b.bucket` for `b@eu`).
            let pluginKey = key.replacingOccurrences(of: "@[A-Za-z0-9_]+[.]", with: ".", options: .regularExpression)
            let entry = entries.last { $0.key == key } ?? entries.last { $0.key == pluginKey || $0.key == error.key }
            throw ConfigError(file: entry?.file ?? file, line: entry?.line, key: entry?.key ?? key,
                              message: error.message)
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "\(error)")
        }
    }

    /// The encryption plugin `encryption` names; nil when it is not set or is the registry's
    /// ``PluginRegistry/encryptionOff``.
    private func pickEncryption(_ entries: [ConfigEntry], file: String) throws(ConfigError) -> (any EncryptionFactory)? {
        guard let entry = entries.last(where: { $0.key == PluginKind.encryption.rawValue }), entry.value != registry.encryptionOff else { return nil }
        guard let factory = PluginRegistry.named(entry.value, in: registry.encryptions) else {
            let known = (registry.encryptionOff.map { [$0] } ?? []) + registry.names(of: .encryption)
            throw ConfigError(file: entry.file, line: entry.line, key: entry.key,
                              message: "unknown encryption '\(entry.value)'; known: \(known.joined(separator: ", "))")
        }
        return factory
    }

    /// The factories `notify` names, in order, each once.
    private func pickNotifiers(_ entries: [ConfigEntry], file: String) throws(ConfigError) -> [any NotifierFactory] {
        guard let entry = entries.last(where: { $0.key == "notify" }) else { return [] }
        let known = registry.notifiers.map(\.name)
        var picked: [any NotifierFactory] = []
        for name in entry.value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let factory = registry.notifiers.first(where: { $0.name == name }) else {
                throw ConfigError(file: entry.file, line: entry.line, key: "notify",
                                  message: "unknown notifier '\(name)'; known: \(known.joined(separator: ", "))")
            }
            if !picked.contains(where: { $0.name == name }) { picked.append(factory) }
        }
        return picked
    }

    private func values(for factory: any PluginFactory, in entries: [ConfigEntry]) -> [String: String] {
        var values: [String: String] = [:]
        for spec in factory.keys {
            values[spec.name] = entries.last { $0.key == "\(factory.name).\(spec.name)" }?.value ?? spec.defaultValue
        }
        return values
    }

    private func effectiveCore(_ entries: [ConfigEntry]) -> [EffectiveSetting] {
        Self.coreKeys.compactMap { spec in
            let entry = entries.last { $0.key == spec.name }
            guard let value = entry?.value ?? spec.defaultValue ?? PluginKind(rawValue: spec.name).flatMap({ registry.defaults[$0] })
            else { return nil }
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

    private static func origin(_ entry: ConfigEntry) -> String {
        entry.line.map { "\(entry.file):\($0)" } ?? entry.file
    }
}
