import Engine
import Foundation
import Logging

extension RunCommand {
    /// At start, for a whole-server job: each database's newest backup already stored, so the per-database
    /// gauges survive a restart of the daemon. Only the databases the newest run backed up count (a
    /// database dropped before it keeps its backups, but no gauge that would age into an alert).
    static func storedDatabases(of job: Job, status: DaemonStatus, logger: Logger) async {
        guard job.source is any ServerSource else { return }
        var newest: [String: Date] = [:]
        for target in job.destinations {
            guard let run = try? await BackupCatalog.records(of: job.name, in: target.destination).last else {
                continue
            }
            do {
                for sub in try await job.storedDatabaseJobs(at: [target]) {
                    let records = try await BackupCatalog.records(of: sub.name, database: sub.database,
                                                                  in: target.destination)
                    guard let database = sub.database, let last = records.last,
                          records.contains(where: { $0.manifest.serverRun == run.name }) else { continue }
                    newest[database] = max(newest[database] ?? last.created, last.created)
                }
            } catch {
                logger.warning("cannot list the databases' backups at \(target.name): \(error)",
                               metadata: ["job": "\(job.name)"])
            }
        }
        for (database, date) in newest { status.storedDatabase(job.name, database, newest: date) }
    }
}
