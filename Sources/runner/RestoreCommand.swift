import ArgumentParser
import Engine
import Foundation
import Logging

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a new database, or in place (the old database is kept beside it).",
        usage: """
            backup restore [--job NAME] [--backup ID] (--to-database NAME | --yes) [--dry-run] [<options>]
            backup restore --server [--job NAME] [--backup ID] [--database PATTERN ...] [--yes] [<options>]
            """,
        discussion: """
            Every check that can be made first (the key opens the backup, the server answers, the target is \
            free, no session is connected to a database restored in place) runs before the plan is printed; \
            --dry-run stops after them. The checksum is checked before the server is changed.

            Examples:
              backup restore --to-database shop_copy
              backup restore --job shop --backup 20261206T001230Z --yes --dry-run
              backup restore --job shop --yes --force --identity /run/secrets/age/identity
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "The job whose backup to restore (may be omitted when there is one job).")
    var job: String?

    @Option(name: .long, help: """
        latest, a backup as `backup list` shows it (its ID or a beginning only it has, its creation time, its file \
        name), or the location of a backup: a file path or an s3://bucket/key \
        URL.
        """)
    var backup: String = "latest"

    @Option(name: .long, help: """
        Read from this destination of the job (as its `destination` names it); default: the first that has the \
        backup.
        """)
    var from: String?

    @Option(name: .long, help: "Restore into this new database instead of in place.")
    var toDatabase: String?

    @Flag(name: .long, help: """
        Restore a whole-server job's run: its roles, then every database it backed up (each into a new database \
        of its name; one the target has already only with --yes, in place), `parallel` at a time.
        """)
    var server = false

    @Option(name: .customLong("database"), help: ArgumentHelp(
        "With --server: only the databases matching this glob (repeatable).", valueName: "PATTERN"))
    var databasePatterns: [String] = []

    @Flag(name: .long, help: "Confirm an in-place restore.")
    var yes = false

    @Flag(name: .long, help: """
        Make every check a restore makes before it changes anything, print the plan and what the checks found, \
        and stop there: nothing is created or changed.
        """)
    var dryRun = false

    @Flag(name: .long, help: """
        Replace an existing --to-database, or disconnect other sessions from the database restored in place.
        """)
    var force = false

    @Flag(name: .long,
          help: "In place: drop the previous database instead of keeping it as <db>_before_restore_<time>.")
    var dropPrevious = false

    @Flag(name: .long, help: """
        Give the roles the restore creates SUPERUSER, REPLICATION and BYPASSRLS where the source's had them (by \
        default they are created without).
        """)
    var allowPrivilegedRoles = false

    @Option(name: .long, help: """
        Create the database with this libc locale instead of the source's locale and locale provider.
        """)
    var locale: String?

    @Option(name: .long, help: "Create the database in this tablespace instead of the source database's.")
    var tablespace: String?

    @Flag(name: .long, help: "Print a JSON object (version 1, see README) at the end instead of text.")
    var json = false

    @OptionGroup var roles: RoleMapOptions

    @OptionGroup var parallel: JobsOption

    @OptionGroup var keys: KeyOptions

    func validate() throws {
        if server {
            if toDatabase != nil { throw ValidationError("--to-database does not apply to --server: each database "
                                                         + "keeps its name; pick databases with --database PATTERN") }
            if (force || dropPrevious) && !yes {
                throw ValidationError("--force and --drop-previous apply, with --server, to the databases restored in"
                                      + " place: pass --yes too")
            }
            return
        }
        if !databasePatterns.isEmpty {
            throw ValidationError("--database applies to --server; to restore one database of a whole-server job, "
                                  + "name its job (--job JOB.DATABASE, as `backup list` shows it)")
        }
        if toDatabase == nil && !yes && !dryRun {
            throw ValidationError("an in-place restore replaces the job's database: pass --yes to confirm, "
                                  + "or --to-database NAME to restore beside it")
        }
        if toDatabase != nil && dropPrevious {
            throw ValidationError("--drop-previous applies only to an in-place restore (without --to-database)")
        }
    }

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let reported = Reported(dryRun: dryRun)
            do {
                if server {
                    try await restoreServer(reported: reported, logger: logger)
                } else {
                    try await restoreOne(reported: reported, logger: logger)
                }
                printReport(reported, failure: nil)
            } catch {
                printReport(reported, failure: error)
                throw error
            }
        }
    }

    /// What the options allow the restore of `job`'s backup to do differently, and how many sessions load it.
    func choices(for job: Job) throws -> RestoreOptions {
        parallel.applied(to: RestoreOptions(privilegedRoles: allowPrivilegedRoles, locale: locale,
                                            tablespace: tablespace, roleMap: try roles.roleMap()), job: job)
    }

    private func restoreOne(reported: Reported, logger: Logger) async throws {
        let (job, location) = try await BackupChoice.resolve(options: options, job: job, backup: backup, from: from,
                                                             overrides: keys.overrides)
        reported.backup(location, job: job.name)
        let mode: RestoreMode = toDatabase.map { .newDatabase($0, replace: force) }
            ?? .inPlace(terminate: force, dropPrevious: dropPrevious)
        if job.source is any ServerSource {
            throw Failure(message: "job \(job.name) is a whole server: restore it with --server, or one of its"
                          + " databases with --job \(job.name).DATABASE (as `backup list` shows it)", exitCode: 64)
        }
        guard let source = job.source as? any RestorableSource else {
            throw Failure(message: "job \(job.name)'s source cannot restore", exitCode: 1)
        }
        let pipeline = RestorePipeline(registry: ProcessSettings.registry)
        let choices = try choices(for: job)
        // Every check that can be made before the server is touched, before the plan is printed.
        let request: RestoreRequest
        var found: [String] = []
        do {
            request = try await pipeline.request(location, mode: mode, options: choices, job: job)
            if let opens = try await pipeline.checkOpens(location, job: job) { found.append(opens) }
            found += try await source.preflight(request)
        } catch {
            throw Failure(message: "restore failed: \(error); nothing was changed", exitCode: 1)
        }
        let record = location.record
        let plan = try await source.describe(request)
        reported.update {
            $0.plan = plan
            $0.checked = found
        }
        say("\(dryRun ? "Would restore" : "Restoring") \(record.object.location) (job \(record.manifest.job), "
            + "made \(Timestamp.iso8601(record.created))):")
        for step in plan { say("  - \(step)") }
        if dryRun {
            say("Checked:")
            for line in found { say("  - \(line)") }
            say("Nothing was changed (--dry-run).")
            return
        }
        try await restore(location, job: job, mode: mode, choices: choices, pipeline: pipeline, reported: reported,
                          logger: logger)
    }

    /// Restores with progress shown on a terminal, and prints what the restore did.
    private func restore(
        _ location: BackupLocation, job: Job, mode: RestoreMode, choices: RestoreOptions, pipeline: RestorePipeline,
        reported: Reported, logger: Logger
    ) async throws {
        let record = location.record
        let progress = TerminalProgress.isTerminal ? TerminalProgress() : nil
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let report = try await SignalCancellation.throwing {
                try await pipeline.restore(location, job: job, mode: mode, options: choices, logger: logger) { bytes in
                    progress?.restoring(bytes: bytes, of: record.manifest.storedBytes)
                }
            }
            progress?.finished(job: job.name)
            let rows = report.rowCounts.values.reduce(0, +)
            let seconds = (clock.now - start).inSeconds
            reported.update {
                $0.database = report.database
                $0.tables = report.rowCounts.count
                $0.rows = rows
                $0.seconds = (seconds * 1000).rounded() / 1000
                $0.previousDatabase = report.previousDatabase
                $0.createdRoles = report.createdRoles
                $0.phases = report.phases.map { Phase(name: $0.name, seconds: ($0.seconds * 1000).rounded() / 1000) }
            }
            let phases = report.phases.map { "\($0.name) \(String(format: "%.1f", $0.seconds))s" }
            let split = phases.isEmpty ? "" : " (\(phases.joined(separator: ", ")))"
            say("Restored into \(report.database): \(report.rowCounts.count) tables, \(rows) rows "
                + "in \(String(format: "%.1f", seconds))s\(split).")
            if let previous = report.previousDatabase { say("The previous database is kept as \(previous).") }
            if !report.createdRoles.isEmpty {
                say("Created roles (no passwords; set them): \(report.createdRoles.joined(separator: ", "))")
            }
        } catch let interrupted as Interrupted {
            progress?.finished(job: job.name)
            throw Failure(message: "restore interrupted by signal \(interrupted.signal); what it created was dropped, "
                          + "nothing else changed", exitCode: 128 + interrupted.signal)
        } catch {
            progress?.finished(job: job.name)
            throw Failure(message: "restore failed: \(error)", exitCode: 1)
        }
    }
}
