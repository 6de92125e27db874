import Engine
import Foundation
import Synchronization

extension RestoreCommand {
    /// `backup restore --json`: the backup, the plan and the checks, then what the restore did; printed at
    /// the end, also when it failed (`ok` false, `error`).
    struct Report: Encodable {
        var version = 1
        var ok = false
        var dryRun: Bool
        var job: String?
        var file: String?
        var id: String?
        var location: String?
        var created: String?
        var plan: [String] = []
        var checked: [String] = []
        /// One database's restore.
        var database: String?
        var tables: Int?
        var rows: Int64?
        var seconds: Double?
        var previousDatabase: String?
        var createdRoles: [String]?
        /// Where the time went (a parallel restore: fetch and decode, schema, data, indexes and constraints).
        var phases: [Phase]?
        /// `--server`: each database's outcome.
        var databases: [ServerDatabase]?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case version, ok, job, file, id, location, created, plan, checked, database, tables, rows, seconds
            case databases, error, phases
            case dryRun = "dry_run"
            case previousDatabase = "previous_database"
            case createdRoles = "created_roles"
        }
    }

    struct Phase: Encodable {
        var name: String
        var seconds: Double
    }

    struct ServerDatabase: Encodable {
        var database: String
        var tables: Int?
        var rows: Int64?
        var previousDatabase: String?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case database, tables, rows, error
            case previousDatabase = "previous_database"
        }
    }

    /// The report as it fills in.
    final class Reported: Sendable {
        private let state: Mutex<Report>
        init(dryRun: Bool) { state = Mutex(Report(dryRun: dryRun)) }
        func update(_ change: (inout Report) -> Void) { state.withLock { change(&$0) } }
        var report: Report { state.withLock { $0 } }

        func backup(_ location: BackupLocation, job: String) {
            let record = location.record
            update {
                $0.job = job
                $0.file = record.name
                $0.id = JobName.id(of: record.name, job: record.manifest.job)
                $0.location = record.object.location
                $0.created = Timestamp.iso8601(record.created)
            }
        }
    }

    /// Text for people, unless --json.
    func say(_ line: String) { if !json { print(line) } }

    /// Prints the report when --json asked for it; `failure` is what ended the command, if anything.
    func printReport(_ reported: Reported, failure: (any Error)?) {
        guard json else { return }
        reported.update {
            $0.ok = failure == nil
            if let failure { $0.error = "\(failure)" }
        }
        print((try? JSONOutput.string(reported.report)) ?? "")
    }
}
