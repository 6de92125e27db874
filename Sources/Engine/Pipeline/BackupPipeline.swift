import Crypto
import Foundation
import Logging

/// Runs one backup of one job: source → stages → SHA-256 → every destination, then verification and
/// retention; ``runAndReport(_:logger:onEvent:)`` adds the last step, telling the notifiers. The run
/// itself, step by step, is ``BackupRun``.
///
/// Reading, compressing and writing overlap (``BackupStream``) with a fixed number of chunks in flight;
/// nothing is staged in a temporary file beyond the destination's own not-yet-published upload.
public struct BackupPipeline: Sendable {
    public var observer: (any ProgressObserver)?
    /// When another process runs the same job: wait for it (true) or fail at once (false).
    public var waitForLock = false
    /// How long the job's lock lasts unless renewed, where the destination's locks are leases; the run
    /// renews it every third of that while it works.
    public var lockLease: Duration = .seconds(300)
    /// How often the lease is renewed; nil: every third of the lease.
    public var lockRenewal: Duration?
    /// Finds the plugins that undo a backup's stages, for `verify = after-backup`'s scratch restore.
    public var registry: PluginRegistry?
    /// How many databases of a whole-server job are dumped at once (the process's `parallel`).
    public var databaseParallelism = 1
    /// The program and release writing the backups, recorded in each manifest (`written_by`).
    public var writer: String?
    /// Injected so tests control time; the timestamp in the file name comes from here.
    public var now: @Sendable () -> Date

    public init(observer: (any ProgressObserver)? = nil, registry: PluginRegistry? = nil,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.observer = observer
        self.registry = registry
        self.now = now
    }

    /// Runs one backup to every destination of `job`. Throws when no destination published it, and
    /// ``PartialBackup`` when some did and others did not.
    public func run(_ job: Job, logger: Logger) async throws -> BackupOutcome {
        var logger = logger
        logger[metadataKey: "job"] = "\(job.name)"
        var run = BackupRun(job: job, pipeline: self, logger: logger)
        // First, so a missing or unwritable destination is named as such, not as a lock failure.
        try await run.checkDestinations()
        let locks = JobLockSession(wait: waitForLock, lease: lockLease, renewal: lockRenewal)
        return try await locks.with(job: job.name, at: run.targets.map { ($0.name, $0.destination) },
                                    tolerateUnavailable: true, logger: logger) { [run] holding in
            var run = run
            try await run.cleanLeftovers(holding)
            var copies = try await run.streamAndPublish()
            try await run.verify(copies)
            try await run.retain(&copies)
            return try run.outcome(copies)
        }
    }
}
