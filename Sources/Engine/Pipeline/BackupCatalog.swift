import Foundation

/// What the engine made for a job, read from a destination's listing: a backup counts only when its file
/// name has the job's exact shape and its manifest exists, parses and names the same job and file. Files of
/// that shape that are not whole backups are problems, reported; anything else in the destination (other
/// jobs, a person's files, partial uploads) is invisible to the engine.
public enum BackupCatalog {
    /// The job's backups, oldest first. `database`: the one database every manifest must name (a
    /// whole-server job's database job, ``Job/database``); nil: any.
    public static func records(of job: String, database: String? = nil,
                               in destination: any Destination) async throws -> [BackupRecord] {
        try await scan(job, database: database, in: destination).records
    }

    /// The job's backups and problems. Listing errors are thrown, never taken for an empty destination.
    public static func scan(_ job: String, database: String? = nil,
                            in destination: any Destination) async throws -> Catalog {
        // Every file of the job starts with `<job>_`; the destination lists only those.
        let objects = try await destination.list(prefix: job + "_")
        var byBackup: [String: (data: StoredObject?, sidecars: [StoredObject])] = [:]
        for object in objects {
            guard let owner = JobName.backup(owning: object.name, job: job) else { continue }
            if owner.isSidecar {
                byBackup[owner.backup, default: (nil, [])].sidecars.append(object)
            } else {
                byBackup[owner.backup, default: (nil, [])].data = object
            }
        }
        var records: [BackupRecord] = []
        var problems: [CatalogProblem] = []
        for (name, group) in byBackup.sorted(by: { $0.key < $1.key }) {
            guard let data = group.data else {
                for sidecar in group.sidecars {
                    problems.append(CatalogProblem(
                        name: sidecar.name, location: sidecar.location,
                        problem: "\(sidecar.name) has no backup \(name) beside it (left by an interrupted run)",
                        leftover: true))
                }
                continue
            }
            switch await examine(name, data: data, sidecars: group.sidecars, job: job, database: database,
                                 in: destination) {
            case .backup(let record):
                records.append(record)
            case .problem(let problem):
                problems.append(CatalogProblem(name: name, location: data.location, problem: problem, leftover: false))
            }
        }
        return Catalog(records: records.sorted { ($0.created, $0.name) < ($1.created, $1.name) }, problems: problems)
    }

    /// A backup whose data object is there: whole, or damaged in a way that needs a person's look.
    private enum Finding {
        case backup(BackupRecord)
        case problem(String)
    }

    /// Whether the backup `name`, stored as `data` with `sidecars` beside it, is whole: its manifest exists,
    /// reads, names this job and file, and every sidecar it lists is there.
    private static func examine(
        _ name: String, data: StoredObject, sidecars: [StoredObject], job: String, database: String?,
        in destination: any Destination
    ) async -> Finding {
        let manifestName = name + Manifest.suffix
        guard sidecars.contains(where: { $0.name == manifestName }) else {
            return .problem("\(name) has no manifest (\(manifestName)); it cannot be checked or restored by the engine")
        }
        // A manifest that cannot be read or decoded is a problem of this backup, reported, never a
        // reason to stop every run of the job; retention neither counts nor deletes such a backup.
        let manifest: Manifest
        do {
            manifest = try Manifest.decode(try await destination.read(name: manifestName, limit: Manifest.maximumBytes))
        } catch {
            return .problem("the manifest of \(name) is unreadable (\(error))")
        }
        // What the manifest names is checked before anything uses it: a bad name is damage, reported.
        if let problem = manifest.nameProblem(job: job, name: name) { return .problem(problem) }
        if let database, manifest.database != database {
            return .problem("the manifest of \(name) names database \(manifest.database.debugDescription.prefix(120)),"
                            + " not \(database.debugDescription), whose job it is stored under")
        }
        let present = Set(sidecars.map(\.name))
        if let missing = (manifest.sidecars ?? []).first(where: { !present.contains($0) }) {
            return .problem("\(name) lacks its sidecar \(missing); it cannot be restored as it was made")
        }
        return .backup(BackupRecord(object: data, manifest: manifest))
    }
}
