import Engine
import Logging

/// Runs jobs one after another (each reported by ``BackupPipeline/runAndReport(_:logger:onEvent:)``:
/// logged, told to `onEvent` and to the job's notifiers); returns the names of failed jobs.
struct JobRunner {
    var logger: Logger
    var showProgress: Bool
    var waitForLock = false
    /// How many databases of a whole-server job are dumped at once (`parallel`).
    var parallel = 1
    /// Hears every finished run, before notifiers do (the daemon's metrics).
    var onEvent: (@Sendable (JobEvent) -> Void)?
    /// Prints one line per run on stdout for a person (``RunSummary``).
    var summarize = false

    func runAll(_ jobs: [Job]) async -> [String] {
        var failed: [String] = []
        for job in jobs {
            if await !runOne(job) { failed.append(job.name) }
        }
        return failed
    }

    func runOne(_ job: Job) async -> Bool {
        // On a terminal, progress against the size of the job's newest backup before compression.
        let expected = showProgress && !(job.source is any ServerSource)
            ? await JobCatalog.build(job).backups.last?.record.manifest.rawBytes : nil
        var pipeline = BackupPipeline(observer: showProgress ? TerminalProgress(expected: expected) : nil,
                                      registry: ProcessSettings.registry)
        pipeline.writer = BuildInfo.writer
        pipeline.waitForLock = waitForLock
        pipeline.lockLease = job.lockLease
        pipeline.databaseParallelism = parallel
        let event = await pipeline.runAndReport(job, logger: logger, onEvent: onEvent)
        if summarize { print(RunSummary.line(event, job: job)) }
        return event.status == .success
    }
}
