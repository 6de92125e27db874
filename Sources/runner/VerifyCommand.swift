import ArgumentParser
import Engine
import Foundation
import Logging

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove backups restore: check the SHA-256, restore into a scratch database, compare every "
            + "table's row count.")

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "Verify only this job's backups.")
    var job: String?

    @Option(name: .long, help: "latest (default), a backup's file name or timestamp, or all.")
    var backup: String = "latest"

    @Option(name: .long, help: """
        Read from this destination of the job (as its `destination` names it); default: the first that has the \
        backup; with --backup all, each backup once.
        """)
    var from: String?

    @OptionGroup var roles: RoleMapOptions

    @OptionGroup var keys: KeyOptions

    @Flag(name: .long, help: "Only re-hash the stored files; needs no database server.")
    var checksumsOnly = false

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let pipeline = RestorePipeline(registry: ProcessSettings.registry)
            var failures: [String] = []
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
                            print("\(problem.name)\(catalog.at(target)): NOT A WHOLE BACKUP (\(problem.problem))")
                            failures.append("\(problem.name): \(problem.problem)")
                        }
                    } else {
                        found = [try catalog.find(BackupSelector(backup))]
                    }
                } catch {
                    failures.append("\(job.name): \(error)")
                    continue
                }
                for location in found {
                    if let problem = try await verify(location, job: job, pipeline: pipeline, logger: logger) {
                        failures.append("\(location.name): \(problem)")
                    }
                }
            }
            if !failures.isEmpty {
                throw Failure(message: "verification failed: \(failures.joined(separator: "; "))", exitCode: 1)
            }
        }
    }

    /// Verifies one backup and prints the result; returns what is wrong, or nil.
    private func verify(
        _ location: BackupLocation, job: Job, pipeline: RestorePipeline, logger: Logger
    ) async throws -> String? {
        let record = location.record
        // A whole-server job's own backups are the server's roles, restored with its databases, not alone:
        // proven by reading them whole (checksum, stages undone) and as the restore reads them.
        if !checksumsOnly, let server = job.source as? any RestorableServerSource {
            do {
                let bytes = try await pipeline.contents(location, job: job, limit: ServerRestore.globalsLimit)
                let databases = try server.runDatabases(bytes)
                print("\(record.name): checksum OK; the server's roles read as restore --server reads them"
                      + " (\(databases.count) databases in the run)")
                return nil
            } catch {
                print("\(record.name): UNREADABLE")
                return "\(error)"
            }
        }
        if checksumsOnly || job.source is any ServerSource {
            do {
                try await pipeline.checkChecksum(record, in: location.destination)
                print("\(record.name): checksum OK")
                return nil
            } catch {
                print("\(record.name): CHECKSUM MISMATCH")
                return "\(error)"
            }
        }
        do {
            let choices = RestoreOptions(roleMap: try roles.roleMap())
            let outcome = try await SignalCancellation.throwing {
                try await pipeline.verify(location, job: job, options: choices, logger: logger)
            }
            guard outcome.restored else {
                print("\(record.name): checksum OK; no row counts recorded (postgres.row_counts = none), "
                      + "so not restored")
                return nil
            }
            printTable(record.name, outcome.checks)
            await recordOutcome(location, outcome.problem.map { "failed: \($0)" } ?? "passed", pipeline: pipeline,
                                logger: logger)
            return outcome.problem
        } catch let interrupted as Interrupted {
            print("\(record.name): INTERRUPTED (the scratch database was dropped)")
            throw Failure(message: "verify interrupted by signal \(interrupted.signal); "
                          + "the scratch database was dropped", exitCode: 128 + interrupted.signal)
        } catch let error as BackupError where error.code == .corrupt {
            print("\(record.name): CHECKSUM MISMATCH")
            await recordOutcome(location, "failed: \(error)", pipeline: pipeline, logger: logger)
            return "\(error)"
        } catch let error as BackupError where error.code == .decryption {
            // Not recorded either: no key here opens it, which says nothing of the backup.
            print("\(record.name): CANNOT DECRYPT (\(error.message))")
            return "\(error)"
        } catch {
            // Not recorded: the restore could not run (a server, a privilege), which proves nothing of the
            // backup either way.
            print("\(record.name): RESTORE FAILED")
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
        let rows = [["TABLE", "EXPECTED", "RESTORED", ""]] + checks.map {
            [$0.table, $0.expected.map(String.init) ?? "-", $0.restored.map(String.init) ?? "-",
             $0.matches ? "ok" : "MISMATCH"]
        }
        print("\(name): restored into a scratch database (dropped again)")
        for line in TextTable.lines(rows, indent: "  ") { print(line) }
        let total = checks.filter(\.matches).count
        print("  \(total) of \(checks.count) tables match")
    }
}
