import Foundation

/// What happened to one run of a job, as notifiers and metrics see it.
public struct JobEvent: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// `partial`: the backup was stored at some of the job's destinations, not all.
        case success, failure, partial
    }

    /// How one destination fared in the run.
    public struct DestinationResult: Sendable, Equatable {
        public var name: String
        /// `success` when the backup was stored there (and its retention ran), else `failure`.
        public var status: Status
        /// Where the copy is; nil when none was stored there.
        public var file: String?
        /// Why not, one line; nil on success.
        public var error: String?

        public init(name: String, status: Status, file: String?, error: String?) {
            self.name = name
            self.status = status
            self.file = file
            self.error = error
        }
    }

    public var job: String
    /// The database the job backs up; nil when the run failed before the source said.
    public var database: String?
    public var status: Status
    /// Stored (compressed) bytes of the backup; 0 when none was published.
    public var bytes: Int64
    /// Uncompressed bytes the source produced.
    public var rawBytes: Int64
    public var durationSeconds: Double
    /// Where the backup is (a path or URL; the first destination's copy); nil when none was published.
    public var file: String?
    /// The error, one line; nil on success.
    public var error: String?
    /// `passed`, `failed: <why>` or nil when the run did not verify.
    public var verification: String?
    public var finishedAt: Date
    /// Each destination's result, in the order configured; empty when the run failed before any began.
    public var destinations: [DestinationResult] = []
    /// A whole-server job's databases and how each fared, in the order found; empty for a job of one database.
    public var databases: [DatabaseResult] = []

    public init(
        job: String, database: String?, status: Status, bytes: Int64, rawBytes: Int64, durationSeconds: Double,
        file: String?, error: String?, verification: String?, finishedAt: Date
    ) {
        self.job = job
        self.database = database
        self.status = status
        self.bytes = bytes
        self.rawBytes = rawBytes
        self.durationSeconds = durationSeconds
        self.file = file
        self.error = error
        self.verification = verification
        self.finishedAt = finishedAt
    }
}
