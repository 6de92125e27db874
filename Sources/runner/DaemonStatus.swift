import Engine
import Foundation
import Prometheus
import Synchronization

/// What `backup run` knows about its jobs, for /readyz and /metrics (swift-prometheus).
final class DaemonStatus: Sendable {
    private struct JobMetrics {
        let lastSuccess, lastFailure, lastDuration, lastRawBytes, lastStoredBytes, nextRun: Gauge
        let lastVerification, lastVerified, runStarted, maxAge: Gauge
        let runs, failures: Counter
        /// Per destination (`destination` label): when a copy was last stored there, and last failed there;
        /// with several destinations, when the newest backup there that passed verification was made.
        let destinationSuccess, destinationFailure, destinationVerified: [String: Gauge]

        /// `job`'s metrics, made in `registry` as `backup_<name>_<unit>` with the job's name as a label.
        init(_ job: Job, in registry: PrometheusCollectorRegistry) {
            let label = [("job", job.name)]
            func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
                MetricNameDescriptor(namespace: "backup", metricName: name, unitName: unit, helpText: help)
            }
            func gauge(_ name: String, _ unit: String, _ help: String) -> Gauge {
                registry.makeGauge(descriptor: descriptor(name, unit, help), labels: label)
            }
            func perDestination(_ name: String, _ help: String) -> [String: Gauge] {
                Dictionary(uniqueKeysWithValues: job.destinations.map { target in
                    (target.name, registry.makeGauge(descriptor: descriptor(name, "seconds", help),
                                                     labels: label + [("destination", target.name)]))
                })
            }
            func counter(_ name: String, _ help: String) -> Counter {
                registry.makeCounter(descriptor: descriptor(name, "total", help), labels: label)
            }
            lastSuccess = gauge("last_success_timestamp", "seconds",
                                "Unix time the job's newest successful backup finished (0: none stored)")
            lastFailure = gauge("last_failure_timestamp", "seconds",
                                "Unix time the job's last failed run ended (0: none yet)")
            lastDuration = gauge("last_duration", "seconds", "How long the job's last run took")
            lastRawBytes = gauge("last_raw", "bytes", "Uncompressed size of the job's last backup")
            lastStoredBytes = gauge("last_stored", "bytes", "Stored (compressed) size of the job's last backup")
            nextRun = gauge("next_run_timestamp", "seconds", "Unix time of the job's next scheduled run")
            lastVerification = gauge("last_verification", "ok", "1 if the last verified backup restored with its row "
                                     + "counts, 0 if it failed, -1 if none was verified")
            lastVerified = gauge("last_verified_timestamp", "seconds", "Unix time the job's newest backup that "
                                 + "passed verification was made (0: none did)")
            maxAge = gauge("max_age", "seconds", "How old the job's newest backup may be before it is overdue: the "
                           + "longest time between two scheduled runs plus status.grace (0: the schedule ends)")
            maxAge.set(job.maxBackupAge(after: Date()) ?? 0)
            runStarted = gauge("run_started_timestamp", "seconds", "Unix time the job's run in progress started "
                               + "(0: not running), to alert on a run far past its usual duration")
            runs = counter("runs", "Runs of the job since the daemon started")
            failures = counter("failures", "Failed runs of the job since the daemon started")
            destinationSuccess = perDestination("destination_last_success_timestamp", "Unix time a backup of the "
                                                + "job was last stored at this destination (0: not since the daemon "
                                                + "started)")
            destinationFailure = perDestination("destination_last_failure_timestamp", "Unix time a run of the job "
                                                + "last failed at this destination (0: none yet)")
            destinationVerified = job.destinations.count < 2 ? [:]
                : perDestination("destination_last_verified_timestamp", "Unix time the newest backup at this "
                                 + "destination that passed verification was made (0: none did)")
        }
    }

    let registry: PrometheusCollectorRegistry
    private let metrics: [String: JobMetrics]
    /// Why each job's last run failed (its error and, where some destinations got the backup, which did
    /// not); absent until it ran, and once it succeeded. The scheduler's liveness rides along.
    private let state = Mutex<(failures: [String: String], schedulerAlive: Bool)>(([:], false))
    let jobNames: [String]
    /// The jobs, and what their destinations held when last listed (at start and after each run): what the
    /// status page shows, evaluated when it is asked for.
    private let jobs: [Job]
    private let listings = Mutex<[String: (catalog: JobCatalog, runs: [String: RunRecord])]>([:])
    /// A whole-server job's per-database gauges, by job, database and which: made as databases appear.
    private let databaseGauges = Mutex<[String: Gauge]>([:])

    /// `tools`: what the source plugins found here (``BuildInfo/tools()``), a label of `backup_build_info`.
    init(jobs: [Job], tools: [String] = []) {
        jobNames = jobs.map(\.name)
        self.jobs = jobs
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        var metrics: [String: JobMetrics] = [:]
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "backup", metricName: "build_info",
                                             helpText: "The build: its version, commit, Swift and the pg_dump "
                                                + "versions found; always 1"),
            labels: [("version", BuildInfo.version), ("commit", BuildInfo.commit), ("swift", BuildInfo.swift),
                     ("tools", tools.joined(separator: "; "))]
        ).set(Double(1))
        for job in jobs {
            metrics[job.name] = JobMetrics(job, in: registry)
            metrics[job.name]!.lastVerification.set(Double(-1))
        }
        self.metrics = metrics
    }

    /// A run of `job` begins now.
    func started(_ job: String) {
        metrics[job]?.runStarted.set(Date().timeIntervalSince1970)
    }

    func record(_ event: JobEvent) {
        guard let metrics = metrics[event.job] else { return }
        metrics.runStarted.set(Double(0))
        let time = event.finishedAt.timeIntervalSince1970
        metrics.runs.increment()
        metrics.lastDuration.set(event.durationSeconds)
        switch event.status {
        case .success:
            metrics.lastSuccess.set(time)
            metrics.lastRawBytes.set(Double(event.rawBytes))
            metrics.lastStoredBytes.set(Double(event.bytes))
        case .failure, .partial:
            metrics.lastFailure.set(time)
            metrics.failures.increment()
        }
        for result in event.destinations {
            let gauges = result.status == .success ? metrics.destinationSuccess : metrics.destinationFailure
            gauges[result.name]?.set(time)
        }
        for result in event.databases {
            databaseGauge(event.job, result.database, success: result.status != .failure).set(time)
        }
        if let verification = event.verification {
            metrics.lastVerification.set(verification == "passed" ? 1.0 : 0.0)
            if verification == "passed" { metrics.lastVerified.set(time - event.durationSeconds) }
        }
        state.withLock { $0.failures[event.job] = event.status == .success ? nil : Self.reason(event) }
    }

    /// Why `event`'s run failed, for /readyz: partial or not, where it was stored and where not, and why.
    private static func reason(_ event: JobEvent) -> String {
        let failed = event.destinations.filter { $0.status != .success }
        let stored = event.destinations.filter { $0.status == .success }.map(\.name)
        var parts = event.status == .partial ? ["partial"] : []
        if !failed.isEmpty && !stored.isEmpty {
            let missing = failed.map(\.name).joined(separator: ", ")
            parts.append("stored at \(stored.joined(separator: ", ")), not at \(missing)")
        }
        parts += failed.compactMap { target in target.error.map { "\(target.name): \($0)" } }
        if let error = event.error { parts.append(error) }
        return "\(event.job) (\(parts.isEmpty ? event.status.rawValue : parts.joined(separator: "; ")))"
    }

    /// `backup_database_last_success_timestamp_seconds` or `…_failure_…` of `database` of whole-server job
    /// `job` (labels `job` and `database`).
    private func databaseGauge(_ job: String, _ database: String, success: Bool) -> Gauge {
        let which = success ? "success" : "failure"
        return databaseGauges.withLock { gauges in
            let key = "\(job)\u{0}\(database)\u{0}\(which)"
            if let gauge = gauges[key] { return gauge }
            let help = success ? "Unix time this database of a whole-server job was last backed up"
                : "Unix time this database's backup last failed"
            let gauge = registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "backup", metricName: "database_last_\(which)_timestamp",
                                                 unitName: "seconds", helpText: help),
                labels: [("job", job), ("database", database)])
            gauges[key] = gauge
            return gauge
        }
    }

    /// Lists what `job`'s destinations hold now (backups and run records), keeps it for the status page,
    /// sets the per-destination verified gauges, and returns each destination's status at `now`.
    @discardableResult
    func list(_ job: Job, now: Date = Date()) async -> [JobStatus] {
        let catalog = await JobCatalog.build(job)
        let runs = await JobStatus.runRecords(of: job)
        listings.withLock { $0[job.name] = (catalog, runs) }
        let statuses = JobStatus.of(job, catalog: catalog, now: now, grace: job.statusGrace, runs: runs)
        if let gauges = metrics[job.name]?.destinationVerified {
            for status in statuses { gauges[status.destination]?.set(status.newestPassed?.timeIntervalSince1970 ?? 0) }
        }
        return statuses
    }

    /// Each job's status at each destination at `now`, from the last listing (none before the first).
    func statuses(at now: Date) -> [JobStatus] {
        let listings = listings.withLock { $0 }
        return jobs.flatMap { job in
            listings[job.name].map {
                JobStatus.of(job, catalog: $0.catalog, now: now, grace: job.statusGrace, runs: $0.runs)
            } ?? []
        }
    }

    /// At start: what the stores hold (each destination's ``JobStatus``), so the newest backup's time,
    /// sizes and duration, and the newest verification, survive a restart of the daemon.
    func stored(_ job: String, statuses: [JobStatus]) {
        guard let metrics = metrics[job] else { return }
        if let newest = statuses.compactMap(\.newest).max(by: { $0.created < $1.created }) {
            metrics.lastSuccess.set(newest.manifest.finishedAt.timeIntervalSince1970)
            metrics.lastRawBytes.set(Double(newest.manifest.rawBytes))
            metrics.lastStoredBytes.set(Double(newest.object.bytes))
            metrics.lastDuration.set(newest.manifest.finishedAt.timeIntervalSince(newest.manifest.startedAt))
        }
        if let verification = statuses.compactMap(\.verification).max(by: { $0.created < $1.created }) {
            metrics.lastVerification.set(verification.passed ? 1.0 : 0.0)
        }
        if let passed = statuses.compactMap(\.newestPassed).max() {
            metrics.lastVerified.set(passed.timeIntervalSince1970)
        }
    }

    /// At start: the newest backup of `database` of whole-server job `job` already stored.
    func storedDatabase(_ job: String, _ database: String, newest: Date) {
        databaseGauge(job, database, success: true).set(newest.timeIntervalSince1970)
    }

    func scheduled(_ job: String, at date: Date?) {
        metrics[job]?.nextRun.set(date?.timeIntervalSince1970 ?? 0)
    }

    var schedulerAlive: Bool {
        get { state.withLock { $0.schedulerAlive } }
        set { state.withLock { $0.schedulerAlive = newValue } }
    }

    /// Each job whose last run failed, with why (`shop (partial, not stored at s3: …)`); ready means none.
    var failingJobs: [String] {
        state.withLock { state in jobNames.compactMap { state.failures[$0] } }
    }

    /// The names of those jobs.
    var failingJobNames: Set<String> {
        state.withLock { state in Set(state.failures.keys) }
    }
}
