import Foundation

/// A backup job: the plugins it is composed of and how often it runs.
public struct Job: Sendable {
    public var name: String
    public var source: any Source
    /// The byte stages between source and destination, in the order applied (a compressor, an encryption).
    public var stages: [JobStage]
    /// Where each backup is stored, in the order configured (`destination = a, b`): one dump is
    /// streamed to all of them at once. Never empty.
    public var destinations: [JobDestination]
    /// The job's retention policy: what a destination without its own applies.
    public var retention: any RetentionPolicy
    /// Seconds between backups in `backup run`.
    public var interval: Double
    /// How retention proves the backups it keeps before deleting others (`retention.check`).
    public var retentionCheck: RetentionCheck
    /// Whether each new backup restores itself into a scratch database and checks its row counts.
    public var verifyAfterBackup: Bool
    /// When `backup run` backs the job up; nil means every `interval`.
    public var schedule: CronSchedule?
    /// Whether `backup run` runs an overdue job at start.
    public var catchUp: Bool
    /// The timezone of calendar-based retention and of the schedule.
    public var timeZone: TimeZone
    /// Who hears about runs (`notify`), when (`notify.on`) and how long each may take (`notify.timeout`).
    public var notifiers: [any Notifier]
    public var notifyWhen: NotifyWhen
    public var notifyTimeout: Double
    /// How long the job's lock lasts without renewal where locks are leases (`lock.lease`).
    public var lockLease: Duration
    /// Seconds after a scheduled run that its backup may still be missing before the job is overdue
    /// (`status.grace`).
    public var statusGrace: Double = 3600
    /// Where a parallel restore decodes a backup it cannot read in place (`restore.scratch_dir`); nil: the
    /// system's temporary directory.
    public var restoreScratchDirectory: String?
    public var settings: [EffectiveSetting]
    /// Every registered plugin's settings in this job (defaults applied), by plugin name: what a plugin the
    /// job does not use needs to read a location given by hand, e.g. another destination's credentials.
    public var pluginSettings: [String: PluginSettings]
    /// For the job of one database of a whole-server job (``forDatabase(_:)``): that database, which every
    /// manifest stored under the job's name must name; nil for any other job.
    public var database: String?
    /// For such a job during a whole-server run: the file name of the run's backup of the server's roles,
    /// recorded in each database's manifest (``Manifest/serverRun``).
    public var serverRun: String?

    /// A job with every field given; the defaults are those of a configuration that does not set the key.
    public init(
        name: String, source: any Source, stages: [JobStage], destinations: [JobDestination],
        retention: any RetentionPolicy, interval: Double, retentionCheck: RetentionCheck = .size,
        verifyAfterBackup: Bool = false, schedule: CronSchedule? = nil, catchUp: Bool = true,
        timeZone: TimeZone = TimeZone(identifier: "UTC")!, notifiers: [any Notifier] = [],
        notifyWhen: NotifyWhen = .failure, notifyTimeout: Double = 10, lockLease: Duration = .seconds(300),
        settings: [EffectiveSetting], pluginSettings: [String: PluginSettings] = [:]
    ) {
        self.name = name
        self.source = source
        self.stages = stages
        self.destinations = destinations
        self.retention = retention
        self.interval = interval
        self.retentionCheck = retentionCheck
        self.verifyAfterBackup = verifyAfterBackup
        self.schedule = schedule
        self.catchUp = catchUp
        self.timeZone = timeZone
        self.notifiers = notifiers
        self.notifyWhen = notifyWhen
        self.notifyTimeout = notifyTimeout
        self.lockLease = lockLease
        self.settings = settings
        self.pluginSettings = pluginSettings
    }
}

extension Job {
    /// A job with one destination, named `destination`, applying the job's retention.
    public init(name: String, source: any Source, stages: [JobStage], destination: any Destination,
                retention: any RetentionPolicy, interval: Double, settings: [EffectiveSetting]) {
        self.init(name: name, source: source, stages: stages,
                  destinations: [JobDestination(name: "destination", destination: destination, retention: retention)],
                  retention: retention, interval: interval, settings: settings)
    }

    /// The destination named `name` (as `--from` or `--to` names it), or an error naming the job's.
    public func destination(named name: String) throws -> JobDestination {
        guard let target = destinations.first(where: { $0.name == name }) else {
            let names = destinations.map(\.name).joined(separator: ", ")
            throw BackupError(.notFound, "job \(self.name) has no destination '\(name)'; its destinations: \(names)")
        }
        return target
    }

    /// ` at <destination>` for messages when the job has several destinations; empty with one.
    public func at(_ destination: String) -> String { destinations.count > 1 ? " at \(destination)" : "" }

    /// This job with only the destinations `names` (in the configured order), e.g. those that published a
    /// backup, or the one `--from` names.
    public func restricted(to names: [String]) -> Job {
        var job = self
        job.destinations = destinations.filter { names.contains($0.name) }
        return job
    }
}

extension Job {
    /// What the manifest records of the chain.
    public var stageRecords: [StageRecord] { stages.map { StageRecord($0.stage, kind: $0.kind) } }

    /// The file extensions the chain adds after the dump's own, in order (`zst`, later `zst`, `age`).
    public var stageExtensions: [String] { stages.compactMap(\.stage.fileExtension) }

    /// The run after `date`: the schedule's next time, or `interval` later.
    public func nextRun(after date: Date) -> Date? {
        guard let schedule else { return date.addingTimeInterval(interval) }
        return schedule.next(after: date, in: timeZone)
    }

    /// How old the newest backup may be before the job is overdue: the longest time between two of its runs
    /// (`interval`; for a schedule, the longest gap among its next ten runs after `date`, e.g. a weekday
    /// schedule's weekend), plus `status.grace`. Nil for a schedule that runs fewer than twice more.
    public func maxBackupAge(after date: Date) -> Double? {
        guard schedule != nil else { return interval + statusGrace }
        var runs: [Date] = []
        var time = date
        while runs.count < 10, let next = nextRun(after: time) {
            runs.append(next)
            time = next
        }
        let gaps = zip(runs, runs.dropFirst()).map { $1.timeIntervalSince($0) }
        return gaps.max().map { $0 + statusGrace }
    }

    /// Whether `backup run` should run the job as soon as it starts: with no schedule always (the original
    /// container backed up at start); with one, when `catch_up` is on and the newest backup is older than
    /// one schedule period (or there is none), so a restart just before a run does not skip it forever.
    public func isDueAtStart(now: Date, newestBackup: Date?) -> Bool {
        guard schedule != nil else { return true }
        guard catchUp else { return false }
        guard let newestBackup else { return true }
        guard let first = nextRun(after: now), let second = nextRun(after: first) else { return false }
        return now.timeIntervalSince(newestBackup) > second.timeIntervalSince(first)
    }
}

extension Job {
    /// The job under which database `database` of this whole-server job is backed up (its name from
    /// ``JobName/forDatabase(_:of:)``, its source the server's source of that database); nil when this job
    /// is not a whole-server job or the name is too long.
    public func forDatabase(_ database: String) -> Job? {
        guard let server = source as? any ServerSource,
              let name = JobName.forDatabase(database, of: self.name) else { return nil }
        var job = self
        job.name = name
        job.source = server.source(forDatabase: database)
        job.database = database
        return job
    }

    /// The job a command names with `name`: one of `jobs`, or a database's job of a whole-server job
    /// among them (`fleet.app`, as `backup list` shows it).
    public static func named(_ name: String, in jobs: [Job]) -> Job? {
        if let job = jobs.first(where: { $0.name == name }) { return job }
        for job in jobs {
            if let database = JobName.database(in: name, of: job.name), let sub = job.forDatabase(database) {
                return sub
            }
        }
        return nil
    }
}
