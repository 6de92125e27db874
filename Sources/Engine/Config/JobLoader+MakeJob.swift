import Foundation

/// Making one job in steps, as restic separates `ParseConfig` from `Create`: check every key, choose the
/// plugins, read when the job runs, make the plugins, then assemble the job in one initializer call. Of
/// several mistakes, the first step's is reported.
extension JobLoader {
    /// `own`: the settings the job's section sets itself (nil: the file has no sections).
    func makeJob(name: String, entries: [ConfigEntry], file: String, own: Set<String>? = nil)
        throws(ConfigError) -> Job
    {
        try checkKeys(entries)
        let choice = try choosePlugins(entries, file: file, own: own)
        let when = try whenItRuns(entries, file: file)
        let plugins = try makePlugins(choice, in: entries, file: file)
        let verify = try verifyAfterBackup(plugins.stages, in: entries, file: file)
        if let key = plugins.source.secretSetting, !plugins.stages.contains(where: { $0.kind == .encryption }) {
            let error = SettingError(key: key, message: "puts secrets into every backup, so the backups must be"
                + " encrypted: set an encryption (encryption = age with its recipients), or leave this out")
            throw located(error, in: entries, file: file)
        }
        let lease = try lockLease(entries, file: file)
        let pluginSettings = registry.all.map { ($0.name, settings(of: $0, in: entries)) }
        var job = Job(
            name: name, source: plugins.source, stages: plugins.stages, destinations: plugins.destinations,
            retention: plugins.retention, interval: when.interval,
            retentionCheck: RetentionCheck(rawValue: value("retention.check", in: entries) ?? "size") ?? .size,
            verifyAfterBackup: verify, schedule: when.schedule,
            catchUp: KeySpec.isTrue(value("catch_up", in: entries) ?? "true"), timeZone: when.timeZone,
            notifiers: plugins.notifiers,
            notifyWhen: NotifyWhen(rawValue: value("notify.on", in: entries) ?? "failure") ?? .failure,
            notifyTimeout: DurationParser.seconds(value("notify.timeout", in: entries) ?? "10s") ?? 10,
            lockLease: lease, settings: effectiveSettings(choice, in: entries),
            pluginSettings: Dictionary(uniqueKeysWithValues: pluginSettings))
        job.statusGrace = DurationParser.seconds(value("status.grace", in: entries) ?? "1h") ?? 3600
        job.restoreScratchDirectory = value("restore.scratch_dir", in: entries)
        return job
    }

    /// Every key is one the engine or a registered plugin declares, with a value of the key's kind.
    private func checkKeys(_ entries: [ConfigEntry]) throws(ConfigError) {
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
    }

    /// The job's timezone, and its schedule or interval.
    private func whenItRuns(_ entries: [ConfigEntry], file: String) throws(ConfigError)
        -> (timeZone: TimeZone, schedule: CronSchedule?, interval: Double)
    {
        func mistake(_ key: String, _ message: String) -> ConfigError {
            located(SettingError(key: key, message: message), in: entries, file: file)
        }
        let zoneName = value("timezone", in: entries) ?? defaultTimeZone
        guard let timeZone = TimeZone(identifier: zoneName) else {
            throw mistake("timezone", "'\(zoneName)' is not a timezone; write Area/City, e.g. Europe/Berlin, or UTC")
        }
        var schedule: CronSchedule?
        if let text = value("schedule", in: entries) {
            guard value("interval", in: entries) == nil else {
                throw mistake("schedule", "set either schedule or interval for a job, not both")
            }
            schedule = try attributing(in: entries, file: file) { try CronSchedule(text) }
        }
        let interval = DurationParser.seconds(value("interval", in: entries) ?? "24h") ?? 86_400
        guard interval >= 1 else { throw mistake("interval", "must be at least 1s") }
        return (timeZone, schedule, interval)
    }

    /// Whether each new backup is verified (`verify = after-backup`). Verifying restores the backup, so it
    /// needs the key a pod that only encrypts does not hold.
    private func verifyAfterBackup(_ stages: [JobStage], in entries: [ConfigEntry], file: String)
        throws(ConfigError) -> Bool
    {
        guard value("verify", in: entries) == "after-backup" else { return false }
        guard let encryption = stages.last(where: { $0.kind == .encryption }) else { return true }
        do {
            _ = try encryption.stage.makeDecoder(for: StageRecord(encryption.stage, kind: .encryption))
        } catch {
            let message = "after-backup restores each backup, which needs the key that decrypts it: \(error); "
                + "or set verify = off and run `backup verify` where the key is"
            throw located(SettingError(key: "verify", message: message), in: entries, file: file)
        }
        return true
    }

    /// How long the job's lock lasts unless renewed (`lock.lease`), where locks are leases.
    private func lockLease(_ entries: [ConfigEntry], file: String) throws(ConfigError) -> Duration {
        let lease = DurationParser.seconds(value("lock.lease", in: entries) ?? "300") ?? 300
        guard lease >= 3 else {
            throw located(SettingError(key: "lock.lease", message: "must be at least 3s"), in: entries, file: file)
        }
        return .milliseconds(Int64(lease * 1000))
    }

    /// The value the job sets for `key`: the last entry's.
    private func value(_ key: String, in entries: [ConfigEntry]) -> String? {
        entries.last { $0.key == key }?.value
    }
}
