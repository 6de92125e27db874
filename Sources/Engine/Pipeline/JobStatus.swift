import Foundation

/// What `backup status` says of one job at one of its destinations, read from the store alone (so it
/// answers where only CronJobs run): the newest backup and the one before it, the newest verification a
/// manifest records, when the job runs next, and whether all of that is as it should be.
public struct JobStatus: Sendable {
    public enum State: String, Sendable, Encodable {
        /// A backup is as recent as the schedule asks, and the newest verification (if any) passed.
        case ok
        /// No backup stored.
        case none = "no-backup"
        /// The newest backup is older than the schedule allows (its next run, plus the grace, has passed).
        case overdue
        /// The newest backup whose verification is recorded failed it.
        case verificationFailed = "verification-failed"
        /// The destination could not be listed.
        case unreadable
    }

    /// The newest backup whose manifest records a verification (`verify = after-backup`, `backup verify`),
    /// and its result.
    public struct Verification: Sendable {
        public var file: String
        /// When the verified backup was made.
        public var created: Date
        /// `passed`, or `failed: <why>`.
        public var result: String
        /// When the verification ran; nil where the manifest predates recording it.
        public var verifiedAt: Date?
        public var passed: Bool { result == "passed" }
    }

    public var job: String
    public var destination: String
    /// How many whole backups the destination holds.
    public var backups: Int
    public var newest: BackupRecord?
    /// The stored size of the backup before the newest, to show the change.
    public var previousStoredBytes: Int64?
    public var verification: Verification?
    /// When the newest backup whose verification passed was made; nil when none passed.
    public var newestPassed: Date?
    /// The job's next run after now (by its schedule, or `interval` after its newest backup).
    public var nextRun: Date?
    /// When the newest backup becomes overdue: the run after it, plus the grace. Nil without a backup.
    public var dueBy: Date?
    /// What the destination keeps of the job's recent runs (``RunRecord``): failures since its last success.
    public var runs: RunRecord?
    /// Who the destination records as holding the job's lock: a run in progress (see
    /// ``LockingDestination/lockHolder(job:)``); nil when nobody does.
    public var lockHolder: String?
    /// Why the destination could not be listed.
    public var error: String?
    public var state: State

    /// Whether this is a reason for `backup status` to exit 1.
    public var isProblem: Bool { state != .ok }
}

extension JobStatus {
    /// The status of `job` at each destination `catalog` lists, at `now`, with each destination's run
    /// record and lock holder; a backup is overdue `grace` seconds after the run that should have replaced it.
    public static func of(_ job: Job, catalog: JobCatalog, now: Date, grace: Double,
                          runs: [String: RunRecord] = [:], lockHolders: [String: String] = [:]) -> [JobStatus] {
        catalog.targets.map { target in
            if let failure = catalog.unlisted.first(where: { $0.destination == target }) {
                return JobStatus(job: job.name, destination: target, backups: 0, runs: runs[target],
                                 lockHolder: lockHolders[target], error: "\(failure.error)", state: .unreadable)
            }
            let records = catalog.backups.compactMap { backup in backup.copies.first { $0.target == target }?.record }
            let newest = records.last
            let verified = records.last { $0.manifest.verification != nil }
            let verification = verified.map {
                Verification(file: $0.name, created: $0.created, result: $0.manifest.verification ?? "",
                             verifiedAt: $0.manifest.verifiedAt)
            }
            let passed = records.last { $0.manifest.verification == "passed" }?.created
            let dueBy = newest.flatMap { job.nextRun(after: $0.created) }?.addingTimeInterval(grace)
            let nextRun = job.schedule != nil ? job.nextRun(after: now)
                : max(now, newest.flatMap { job.nextRun(after: $0.created) } ?? now)
            let state: State
            if newest == nil {
                state = .none
            } else if let verification, !verification.passed {
                state = .verificationFailed
            } else if let dueBy, now > dueBy {
                state = .overdue
            } else {
                state = .ok
            }
            return JobStatus(job: job.name, destination: target, backups: records.count, newest: newest,
                             previousStoredBytes: records.dropLast().last?.object.bytes, verification: verification,
                             newestPassed: passed, nextRun: nextRun, dueBy: dueBy, runs: runs[target],
                             lockHolder: lockHolders[target], state: state)
        }
    }
}

extension JobStatus {
    /// Each of `job`'s destinations' lock holders (those it could read, and where the lock is held).
    public static func lockHolders(of job: Job) async -> [String: String] {
        var holders: [String: String] = [:]
        for target in job.destinations {
            guard let locking = target.destination as? any LockingDestination else { continue }
            holders[target.name] = try? await locking.lockHolder(job: job.name)
        }
        return holders
    }

    /// Each of `job`'s destinations' run records (those it could read).
    public static func runRecords(of job: Job) async -> [String: RunRecord] {
        var records: [String: RunRecord] = [:]
        for target in job.destinations {
            records[target.name] = await RunRecord.read(job.name, from: target.destination)
        }
        return records
    }
}
