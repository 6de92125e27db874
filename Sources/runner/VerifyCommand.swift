import ArgumentParser
import Engine
import Foundation
import Logging

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove backups restore: check the SHA-256, restore into a scratch database, compare every "
            + "table's row count.",
        discussion: """
            The outcome is recorded in the backup's manifest, where `backup status` and the metrics read it. \
            Exits 0 only when every backup passed.

            Examples:
              backup verify
              backup verify --job shop --backup all --identity restore-key.txt
              backup verify --checksums-only --json
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "Verify only this job's backups.")
    var job: String?

    @Option(name: .long, help: """
        latest (default), all, or one backup as `backup list` shows it: its ID (or a beginning only it has), \
        its creation time, its file name.
        """)
    var backup: String = "latest"

    @Option(name: .long, help: """
        Read from this destination of the job (as its `destination` names it); default: the first that has the \
        backup; with --backup all, each backup once.
        """)
    var from: String?

    @OptionGroup var roles: RoleMapOptions

    @OptionGroup var parallel: JobsOption

    @OptionGroup var keys: KeyOptions

    @Flag(name: .long, help: "Only re-hash the stored files; needs no database server.")
    var checksumsOnly = false

    @Flag(name: .long, help: "Print a JSON object (version 1, see README) instead of text.")
    var json = false

    /// `backup verify --json`: each backup verified, with its result and (when restored) its tables.
    struct Report: Encodable {
        var version = 1
        var ok: Bool
        var backups: [Entry]
        /// Jobs whose backups could not be found or listed, with why.
        var errors: [String]
    }

    struct Entry: Encodable {
        var job: String
        var file: String
        var id: String?
        /// `passed`, `checksum-ok` (not restored), `failed` (row counts differ), `checksum-mismatch`,
        /// `cannot-decrypt`, `restore-failed` (the restore could not run: proves nothing either way),
        /// `unreadable`, `not-a-whole-backup`.
        var result: String
        var error: String?
        var tables: [Table]?
    }

    struct Table: Encodable {
        var table: String
        var expected: Int64?
        var restored: Int64?
        var matches: Bool
    }

    /// Text for people, unless --json.
    private func say(_ line: String) { if !json { print(line) } }

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let pipeline = RestorePipeline(registry: ProcessSettings.registry)
            var failures: [String] = []
            var entries: [Entry] = []
            var errors: [String] = []
            defer {
                if json {
                    let report = Report(ok: failures.isEmpty, backups: entries, errors: errors)
                    print((try? JSONOutput.string(report)) ?? "")
                }
            }
            let jobs = try options.loadJobs(only: job, overrides: keys.overrides, forReading: true)
            for job in try await jobs.withDatabaseJobs(from: from) {
                var found: [BackupLocation] = []
                do {
                    let catalog = await JobCatalog.build(job, at: try from.map { [try job.destination(named: $0)] })
                    if backup == "all" {
                        // Each backup once, from the first destination configured that holds it.
                        try catalog.requireListed()
                        found = catalog.backups.map(\.first)
                        for (target, problem) in catalog.problems {
                            say("\(problem.name)\(catalog.at(target)): NOT A WHOLE BACKUP (\(problem.problem))")
                            failures.append("\(problem.name): \(problem.problem)")
                            entries.append(Entry(job: job.name, file: problem.name, result: "not-a-whole-backup",
                                                 error: problem.problem))
                        }
                    } else {
                        found = [try catalog.find(BackupSelector(backup))]
                    }
                } catch {
                    failures.append("\(job.name): \(error)")
                    errors.append("\(job.name): \(error)")
                    continue
                }
                for location in found {
                    var entry = Entry(job: job.name, file: location.name,
                                      id: JobName.id(of: location.name, job: job.name), result: "passed")
                    if let problem = try await verify(location, job: job, pipeline: pipeline, entry: &entry,
                                                      logger: logger) {
                        failures.append("\(location.name): \(problem)")
                        entry.error = problem
                    }
                    entries.append(entry)
                }
            }
            if !failures.isEmpty {
                throw Failure(message: "verification failed: \(failures.joined(separator: "; "))", exitCode: 1)
            }
        }
    }

    /// Verifies one backup, prints the result and sets it in `entry`; returns what is wrong, or nil.
    private func verify(
        _ location: BackupLocation, job: Job, pipeline: RestorePipeline, entry: inout Entry, logger: Logger
    ) async throws -> String? {
        let record = location.record
        if checksumsOnly || job.source is any ServerSource {
            return await verifyReading(location, job: job, pipeline: pipeline, entry: &entry)
        }
        do {
            let choices = parallel.applied(to: RestoreOptions(roleMap: try roles.roleMap()), job: job)
            let outcome = try await SignalCancellation.throwing {
                try await pipeline.verify(location, job: job, options: choices, logger: logger)
            }
            guard outcome.restored else {
                say("\(record.name): checksum OK; no row counts recorded (postgres.row_counts = none), "
                    + "so not restored")
                entry.result = "checksum-ok"
                return nil
            }
            printTable(record.name, outcome.checks)
            entry.result = outcome.problem == nil ? "passed" : "failed"
            entry.tables = outcome.checks.map {
                Table(table: $0.table, expected: $0.expected, restored: $0.restored, matches: $0.matches)
            }
            await recordOutcome(location, outcome.problem.map { "failed: \($0)" } ?? "passed", pipeline: pipeline,
                                logger: logger)
            return outcome.problem
        } catch let interrupted as Interrupted {
            say("\(record.name): INTERRUPTED (the scratch database was dropped)")
            throw Failure(message: "verify interrupted by signal \(interrupted.signal); "
                          + "the scratch database was dropped", exitCode: 128 + interrupted.signal)
        } catch let error as BackupError where error.code == .corrupt {
            say("\(record.name): CHECKSUM MISMATCH")
            entry.result = "checksum-mismatch"
            await recordOutcome(location, "failed: \(error)", pipeline: pipeline, logger: logger)
            return "\(error)"
        } catch let error as BackupError where error.code == .decryption {
            // Not recorded either: no key here opens it, which says nothing of the backup.
            say("\(record.name): CANNOT DECRYPT (\(error.message))")
            entry.result = "cannot-decrypt"
            return "\(error)"
        } catch {
            // Not recorded: the restore could not run (a server, a privilege), which proves nothing of the
            // backup either way.
            say("\(record.name): RESTORE FAILED")
            entry.result = "restore-failed"
            return "\(error)"
        }
    }

    /// Verifies one backup without restoring it: a whole-server job's roles backup, read as `restore
    /// --server` reads it, or (`--checksums-only`, or a whole-server job's) the stored file's checksum.
    private func verifyReading(
        _ location: BackupLocation, job: Job, pipeline: RestorePipeline, entry: inout Entry
    ) async -> String? {
        let record = location.record
        // A whole-server job's own backups are the server's roles, restored with its databases, not alone:
        // proven by reading them whole (checksum, stages undone) and as the restore reads them.
        if !checksumsOnly, let server = job.source as? any RestorableServerSource {
            do {
                let bytes = try await pipeline.contents(location, job: job, limit: ServerRestore.globalsLimit)
                let databases = try server.runDatabases(bytes)
                say("\(record.name): checksum OK; the server's roles read as restore --server reads them"
                    + " (\(databases.count) databases in the run)")
                entry.result = "checksum-ok"
                return nil
            } catch {
                say("\(record.name): UNREADABLE")
                entry.result = "unreadable"
                return "\(error)"
            }
        }
        do {
            try await pipeline.checkChecksum(record, in: location.destination)
            say("\(record.name): checksum OK")
            entry.result = "checksum-ok"
            return nil
        } catch {
            say("\(record.name): CHECKSUM MISMATCH")
            entry.result = "checksum-mismatch"
            return "\(error)"
        }
    }

    /// Writes the outcome into the backup's manifest at the destination it was read from, where `backup
    /// status`, the daemon's gauges and the alerts find it. A store this process may not write (a verifier
    /// with read-only keys) is warned about, and fails nothing.
    private func recordOutcome(
        _ location: BackupLocation, _ verification: String, pipeline: RestorePipeline, logger: Logger
    ) async {
        do {
            try await pipeline.record(location, verification: verification)
        } catch {
            logger.warning("the outcome of verifying \(location.name) was not recorded in its manifest: \(error)")
        }
    }

    private func printTable(_ name: String, _ checks: [RowCountCheck]) {
        guard !json else { return }
        let rows = [["TABLE", "EXPECTED", "RESTORED", ""]] + checks.map {
            [$0.table, $0.expected.map(String.init) ?? "-", $0.restored.map(String.init) ?? "-",
             $0.matches ? "ok" : "MISMATCH"]
        }
        print("\(name): restored into a scratch database (dropped again)")
        for line in TextTable.lines(rows, indent: "  ", right: [1, 2]) { print(line) }
        let total = checks.filter(\.matches).count
        print("  \(total) of \(checks.count) tables match")
    }
}
