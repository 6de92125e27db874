import Foundation

/// Turns a parsed configuration into jobs: rejects unknown keys and plugins, validates values, applies
/// defaults, reads `*_file` keys, and asks each selected plugin's factory to make it.
public struct JobLoader: Sendable {
    /// The engine's own keys; everything else belongs to a plugin as `<plugin>.<key>`.
    public static let coreKeys: [KeySpec] = [
        KeySpec("source", .string, summary: "the source plugin"),
        KeySpec("compressor", .string, summary: "the compressor plugin"),
        KeySpec("encryption", .string,
                summary: "the encryption plugin applied after the compressor (default: none)"),
        KeySpec("destination", .string,
                summary: "the destination plugins, comma-separated: one dump is stored at each "
                    + "(a second of one plugin is labelled, `<plugin>@eu`)"),
        KeySpec("retention", .string, summary: "the retention plugin"),
        KeySpec("interval", .duration, default: "24h", summary: "time between backups in `backup run`"),
        KeySpec("schedule", .string,
                summary: "cron schedule for `backup run` (5 fields or @hourly/@daily/@weekly/@monthly/@yearly), "
                    + "instead of interval"),
        KeySpec("catch_up", .boolean, default: "true",
                summary: "at start, run a job at once when its newest backup is older than one schedule period"),
        KeySpec("verify", .choice(["off", "after-backup"]), default: "off",
                summary: "after-backup: each new backup is restored into a scratch database and its row counts "
                    + "checked"),
        KeySpec("retention.check", .choice(["size", "checksum"]), default: "size",
                summary: "before deleting, prove the kept backups by size (and failed verifications), "
                    + "or also re-hash them"),
        KeySpec("timezone", .string, summary: "Area/City for calendar-based retention (default: $TZ, else UTC)"),
        KeySpec("notify", .string,
                summary: "notifier plugins told about runs, comma-separated, e.g. `webhook, slack` (default: none)"),
        KeySpec("notify.on", .choice(["failure", "always"]), default: "failure",
                summary: "notify on failures only, or after every run"),
        KeySpec("notify.timeout", .duration, default: "10s",
                summary: "how long a notifier may take before it is given up (the backup never waits longer)"),
        KeySpec("status.grace", .duration, default: "1h",
                summary: "how long after a scheduled run its backup may still be missing before `backup status` "
                    + "calls the job overdue"),
        KeySpec("restore.scratch_dir", .string,
                summary: "where a restore or verify that loads in parallel (--jobs) first decodes a backup it "
                    + "cannot read in place (compressed or encrypted by a stage, or in object storage) "
                    + "(default: $TMPDIR, else /tmp); it needs the backup's raw_bytes free"),
        KeySpec("lock.lease", .duration, default: "5m",
                summary: "where the job's lock is a lease (object storage), how long a lock lasts unless renewed "
                    + "(every third of it): a killed run's lock is taken over after this"),
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
        guard let name = factory.defaultJobName(settings(of: factory, in: entries)) else { return "backup" }
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
            } else if entry.key.hasSuffix("_file"),
                      let key = Self.renamed(String(entry.key.dropLast(5)), registry: registry) {
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
            if let spec = factory.keys.first(where: { $0.aliases.contains(key) }) {
                return "\(factory.name).\(spec.name)"
            }
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

    /// True when `key`, or the setting its `_file` form sets, holds a secret; also under a name an earlier
    /// release gave the setting (`verify.password`).
    public func isSecret(_ key: String) -> Bool {
        let setting = key.hasSuffix("_file") && !isDeclared(key) ? String(key.dropLast(5)) : key
        return spec(for: Self.renamed(setting, registry: registry) ?? setting)?.secret == true
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

    /// Every key a job may set, for suggestions near a mistyped one.
    var allKeys: [String] {
        let plugins = registry.all.flatMap { factory in factory.keys.map { "\(factory.name).\($0.name)" } }
        return (Self.coreKeys + processKeys).map(\.name) + plugins
    }

    /// The plugin's settings in the job: each of its keys as the job sets it, else its default.
    func settings(of factory: any PluginFactory, in entries: [ConfigEntry]) -> PluginSettings {
        var values: [String: String] = [:]
        for spec in factory.keys {
            values[spec.name] = entries.last { $0.key == "\(factory.name).\(spec.name)" }?.value ?? spec.defaultValue
        }
        return PluginSettings(plugin: factory.name, values: values)
    }

    static func origin(_ entry: ConfigEntry) -> String {
        entry.line.map { "\(entry.file):\($0)" } ?? entry.file
    }
}
