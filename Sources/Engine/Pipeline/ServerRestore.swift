import Foundation
import Logging

/// `restore --server`: one run of a whole-server job put back onto a server. The run's own backup (the
/// server's roles) first, then each of the run's databases from its backup of that run
/// (``Manifest/serverRun``), `parallelism` at a time, each restored as `restore` restores one backup. A
/// database that fails is undone and named; those that succeeded stay.
public struct ServerRestore: Sendable {
    /// One database of the run: the backup that restores it and how, or why it is not restored.
    public struct Database: Sendable {
        public var name: String
        public var job: Job?
        public var location: BackupLocation?
        public var mode: RestoreMode?
        /// Why the database is not restored; nil when it is to be.
        public var problem: String?
    }

    /// How one database's restore ended: its report, or why it failed.
    public struct Result: Sendable {
        public var database: String
        public var report: RestoreReport?
        public var error: String?
    }

    public let job: Job
    public let source: any RestorableServerSource
    public let run: BackupLocation
    /// The run's own backup, its stages undone and its checksum proven.
    public let globals: [UInt8]
    public let databases: [Database]
    public let options: RestoreOptions
    let pipeline: RestorePipeline

    /// The most the run's own backup may hold (it is read whole).
    public static let globalsLimit = 64 << 20

    /// Reads the run's own backup and finds, at the destination it was read from, each database's backup
    /// of the run. `patterns` (globs) select databases; none selects all. A database the target has already
    /// is restored in place (`inPlace`, kept beside it unless dropped) or not at all.
    public init(
        _ run: BackupLocation, job: Job, patterns: [String], inPlace: (terminate: Bool, dropPrevious: Bool)?,
        options: RestoreOptions, pipeline: RestorePipeline
    ) async throws {
        guard let source = job.source as? any RestorableServerSource else {
            throw BackupError(.config, "job \(job.name) is not a whole-server job (its database is not *);"
                + " restore it without --server")
        }
        self.job = job
        self.source = source
        self.run = run
        self.pipeline = pipeline
        var options = options
        options.roleMapAcrossDatabases = true
        self.options = options
        globals = try await pipeline.contents(run, job: job, limit: Self.globalsLimit)
        let all = try source.runDatabases(globals)
        var names = all
        if !patterns.isEmpty {
            names = all.filter { name in patterns.contains { fnmatch($0, name, 0) == 0 } }
            guard !names.isEmpty else {
                throw BackupError(.config, "--database \(patterns.joined(separator: " ")) matches none of the"
                    + " \(all.count) databases of \(run.name): \(all.prefix(20).joined(separator: ", "))")
            }
        }
        let existing = try await source.existingDatabases()
        guard let target = job.destinations.first(where: { $0.name == run.target }) else {
            throw BackupError(.config, "restore --server reads a run at one of job \(job.name)'s destinations, where"
                + " its databases' backups are: name the run with --backup latest or its time (and --from), not a path")
        }
        var found: [Database] = []
        for name in names {
            found.append(await Self.database(name, of: job, run: run, at: target, existing: existing,
                                             inPlace: inPlace))
        }
        databases = found
    }

    private static func database(
        _ name: String, of job: Job, run: BackupLocation, at target: JobDestination, existing: Set<String>,
        inPlace: (terminate: Bool, dropPrevious: Bool)?
    ) async -> Database {
        var database = Database(name: name)
        guard let sub = job.forDatabase(name) else {
            database.problem = "its name is too long to have been backed up"
            return database
        }
        database.job = sub
        let catalog = await JobCatalog.build(sub, at: [target])
        guard let backup = catalog.backups.last(where: { $0.record.manifest.serverRun == run.record.name }) else {
            let why = catalog.unlisted.first.map { "cannot list \(target.name): \($0.error)" }
                ?? "no backup of it from this run at \(target.name) (its backup failed, or was deleted)"
            database.problem = why
            return database
        }
        database.location = backup.first
        if !existing.contains(name) {
            database.mode = .newDatabase(name, replace: false)
        } else if let inPlace {
            database.mode = .inPlace(terminate: inPlace.terminate, dropPrevious: inPlace.dropPrevious)
        } else {
            database.problem = "it exists on the target; pass --yes to restore it in place"
                + " (the existing one is kept beside it), or leave it out with --database"
        }
        return database
    }

    /// The steps, for people to read: the server's own, then one per database.
    public func describe() async throws -> [String] {
        var steps = try await source.describeServer(globals, options: options)
        for database in databases {
            let quoted = database.name.debugDescription
            guard let location = database.location, let mode = database.mode else {
                steps.append("NOT database \(quoted): \(database.problem ?? "?")")
                continue
            }
            let how: String
            switch mode {
            case .inPlace(_, let dropPrevious):
                how = "in place (the existing one " + (dropPrevious ? "dropped: --drop-previous)" : "kept beside it)")
            default:
                how = "into a new database"
            }
            steps.append("restore database \(quoted) from \(location.record.object.location) \(how)")
        }
        return steps
    }

    /// Creates the server's roles, then restores each database: into new databases `parallelism` at a
    /// time, then in place one at a time (renaming a database needs it free of every session, the other
    /// restores' included). The roles created and each database's result, in the plan's order. Throws only
    /// when the roles could not be restored (nothing else was tried) or the restore was cancelled.
    public func restore(parallelism: Int, logger: Logger) async throws -> (roles: [String], results: [Result]) {
        var results: [Int: Result] = [:]
        let inPlace = databases.indices.filter {
            if case .inPlace = databases[$0].mode { return true }
            return false
        }
        let others = databases.indices.filter { !inPlace.contains($0) }
        let roles = try await source.restoreServer(globals, options: options, logger: logger) {
            for (index, result) in try await restore(others, parallelism: parallelism, logger: logger) {
                results[index] = result
            }
            for (index, result) in try await restore(inPlace, parallelism: 1, logger: logger) {
                results[index] = result
            }
        }
        return (roles, databases.indices.compactMap { results[$0] })
    }

    /// Restores the databases at `indices`, at most `parallelism` at once; each result by index.
    private func restore(_ indices: [Int], parallelism: Int, logger: Logger) async throws -> [Int: Result] {
        let results = try await indices.boundedMap(limit: parallelism) {
            try await restore(databases[$0], logger: logger)
        }
        return Dictionary(uniqueKeysWithValues: zip(indices, results))
    }

    private func restore(_ database: Database, logger: Logger) async throws -> Result {
        guard let job = database.job, let location = database.location, let mode = database.mode else {
            return Result(database: database.name, error: database.problem ?? "not restored")
        }
        do {
            let report = try await pipeline.restore(location, job: job, mode: mode, options: options, logger: logger)
            return Result(database: database.name, report: report)
        } catch {
            if Task.isCancelled || error is CancellationError { throw error }
            return Result(database: database.name, error: "\(error)")
        }
    }
}
