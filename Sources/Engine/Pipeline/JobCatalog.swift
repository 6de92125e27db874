import Foundation

/// Where every backup of a job is, at each of its destinations: each destination listed once, here, for
/// every command that asks (list, verify, restore, copy).
public struct JobCatalog: Sendable {
    /// One backup and every destination holding it, in the order the job configures them.
    public struct Backup: Sendable {
        public var copies: [BackupLocation]
        /// The copy commands read: the first destination configured that holds the backup.
        public var first: BackupLocation { copies[0] }
        public var name: String { first.name }
        public var record: BackupRecord { first.record }
    }

    public let job: String
    /// The destinations listed, in the order configured.
    public let targets: [String]
    /// Every backup once, oldest first.
    public private(set) var backups: [Backup] = []
    /// What is stored at a destination in the job's shape but is not a whole backup.
    public private(set) var problems: [(target: String, problem: CatalogProblem)] = []
    /// Destinations that could not be listed, and why: what they hold is unknown.
    public private(set) var unlisted: [DestinationFailure] = []

    /// Lists each of `targets` (default: every destination of `job`).
    public static func build(_ job: Job, at targets: [JobDestination]? = nil) async -> JobCatalog {
        await build(job: job.name, database: job.database,
                    at: (targets ?? job.destinations).map { ($0.name, $0.destination) })
    }

    /// Lists the backups of the job named `job` at each of `targets` (with `database`, only those whose
    /// manifests name it; see ``BackupCatalog/scan(_:database:in:)``).
    public static func build(
        job: String, database: String? = nil, at targets: [(name: String, destination: any Destination)]
    ) async -> JobCatalog {
        var catalog = JobCatalog(job: job, targets: targets.map(\.name))
        var index: [String: Int] = [:]
        for target in targets {
            let scanned: Catalog
            do {
                scanned = try await BackupCatalog.scan(job, database: database, in: target.destination)
            } catch {
                catalog.unlisted.append(DestinationFailure(destination: target.name, error: error))
                continue
            }
            catalog.problems += scanned.problems.map { (target.name, $0) }
            for record in scanned.records {
                let location = BackupLocation(target: target.name, destination: target.destination, record: record)
                if let at = index[record.name] {
                    catalog.backups[at].copies.append(location)
                } else {
                    index[record.name] = catalog.backups.count
                    catalog.backups.append(Backup(copies: [location]))
                }
            }
        }
        catalog.backups.sort { ($0.record.created, $0.name) < ($1.record.created, $1.name) }
        return catalog
    }

    /// Each destination's listing must have worked: the first that did not is the error.
    public func requireListed() throws {
        guard let failure = unlisted.first else { return }
        if targets.count == 1 { throw failure.error }
        throw BackupError(.destination, "cannot list \(failure.destination): \(failure.error)")
    }

    /// The backup `selector` names: the newest (by when it was made; the first destination configured
    /// wins a tie), or the one a file name or timestamp names. For `latest`, a destination that could not be
    /// listed is an error (its newest is unknown); for a name, it is passed over while another has it.
    public func find(_ selector: BackupSelector) throws -> BackupLocation {
        switch selector {
        case .latest:
            if let failure = unlisted.first {
                if targets.count == 1 { throw failure.error }
                let others = targets.filter { $0 != failure.destination }.joined(separator: " or ")
                throw BackupError(.destination, "cannot list \(failure.destination), so the newest backup is unknown "
                    + "(\(failure.error)); name another destination with --from (\(others))")
            }
            guard let newest = backups.last else {
                throw BackupError(.notFound, "job \(job) has no backups yet\(anywhere); run `backup now` first")
            }
            return newest.first
        case .named(let text):
            let name = URL(fileURLWithPath: text).lastPathComponent
            // Every form `list` shows: the file name (or a path to it), the ID, or the time as ISO 8601.
            let id = Timestamp.parseISO8601(text).map(Timestamp.compact) ?? text
            func matches(_ candidate: String) -> Bool { candidate == name || candidate.hasPrefix("\(job)_\(id).") }
            if let backup = backups.last(where: { matches($0.name) }) { return backup.first }
            // A beginning of an ID that only one backup has (`20261206T00`).
            if text.count >= 4, !text.contains("/") {
                let begun = backups.filter { JobName.id(of: $0.name, job: job)?.hasPrefix(text) == true }
                if begun.count == 1 { return begun[0].first }
                if begun.count > 1 {
                    let ids = begun.compactMap { JobName.id(of: $0.name, job: job) }
                    let shown = ids.prefix(5).joined(separator: ", ") + (ids.count > 5 ? ", …" : "")
                    throw BackupError(.notFound, "'\(text)' begins \(ids.count) backups of job \(job) (\(shown)); "
                                      + "give more of the ID")
                }
            }
            if let failure = unlisted.first {
                if targets.count == 1 { throw failure.error }
                throw BackupError(.destination, "\(failure.destination): \(failure.error)")
            }
            // A damaged backup by that name is reported as such, not as missing.
            if let damaged = problems.last(where: { matches($0.problem.name) }) {
                let (location, problem) = (damaged.problem.location, damaged.problem.problem)
                throw BackupError(.corrupt, "\(location) is not a whole backup: \(problem)")
            }
            throw BackupError(.notFound,
                              "job \(job) has no backup '\(text)'\(anywhere); `backup list --job \(job)` shows them")
        }
    }

    /// ` at <target>` for messages when the catalog lists several destinations; empty with one.
    public func at(_ target: String) -> String { targets.count > 1 ? " at \(target)" : "" }

    /// ` at any destination` when there are several, for messages.
    private var anywhere: String { targets.count > 1 ? " at any destination" : "" }
}
