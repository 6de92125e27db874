import ArgumentParser
import Engine
import Foundation
import Logging
import Synchronization

struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy stored backups (with manifests and sidecars) from one of a job's destinations to another; "
            + "what is there already is skipped.",
        discussion: """
            Each backup's SHA-256 (and its sidecars') is checked against its manifest before it is published; \
            an existing copy is never replaced.

            Examples:
              backup copy --from local --to s3
              backup copy --job shop --from s3 --to local --backup all
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "The job whose backups to copy (may be omitted when there is one job).")
    var job: String?

    @Option(name: .long, help: "The destination to copy from, as the job's `destination` names it (e.g. local).")
    var from: String

    @Option(name: .long, help: "The destination to copy to (e.g. s3).")
    var to: String

    @Option(name: .long, help: """
        latest (default), all, or one backup as `backup list` shows it: its ID (or a beginning only it has), \
        its creation time, its file name.
        """)
    var backup: String = "latest"

    @Flag(name: .long, help: "If a run of the job holds its lock at the target, wait for it instead of failing.")
    var wait = false

    @Flag(name: .long, help: "Print a JSON object (version 1, see README) instead of text.")
    var json = false

    /// `backup copy --json`: what was copied (where to), what the target had already, what was left out.
    struct Report: Encodable {
        var version = 1
        var job: String
        var from: String
        var to: String
        var copied: [Copied] = []
        var present: [String] = []
        var damaged: [String] = []
    }

    struct Copied: Encodable {
        var file: String
        var location: String
    }

    /// Filled in as backups are copied, printed at the end (also when the copy failed part way).
    final class Reported: @unchecked Sendable {
        let lock = Mutex(())
        var report: Report
        init(_ report: Report) { self.report = report }
        func update(_ change: (inout Report) -> Void) { lock.withLock { _ in change(&report) } }
    }

    /// Text for people, unless --json.
    private func say(_ line: String) { if !json { print(line) } }

    func validate() throws {
        if from == to { throw ValidationError("--from and --to name the same destination") }
    }

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let jobs = try options.loadJobs(only: job)
            guard job != nil || jobs.count == 1 else {
                throw Failure(message: "name the job with --job; jobs: \(jobs.map(\.name).joined(separator: ", "))",
                              exitCode: 64)
            }
            let reported = Reported(Report(job: jobs[0].name, from: from, to: to))
            defer { if json { print((try? JSONOutput.string(reported.report)) ?? "") } }
            var done = (copied: 0, present: 0)
            var damaged: [String] = []
            // A whole-server job: its roles backups, then each database's.
            for job in try await [jobs[0]].withDatabaseJobs(from: from) {
                let result = try await copy(job, reported: reported, logger: logger)
                done = (done.copied + result.copied, done.present + result.present)
                damaged += result.damaged
            }
            let job = jobs[0]
            say("\(done.copied) copied, \(done.present) already at \(to)"
                  + (damaged.isEmpty ? "" : ", \(damaged.count) damaged not copied"))
            if !damaged.isEmpty {
                throw Failure(message: "copy of job \(job.name) from \(from) to \(to) left out what is not a whole "
                              + "backup: \(damaged.joined(separator: ", ")); `backup list --job \(job.name)` says why",
                              exitCode: 1)
            }
        }
    }

    /// Copies `job`'s selected backups: how many were copied, how many were there already, and what is
    /// damaged and was left out.
    private func copy(
        _ job: Job, reported: Reported, logger: Logger
    ) async throws -> (copied: Int, present: Int, damaged: [String]) {
        let counts = Mutex((copied: 0, present: 0))
        var damaged: [String] = []
        do {
            let source = try job.destination(named: from)
            let target = try job.destination(named: to)
            let catalog = await JobCatalog.build(job, at: [source])
            let selected = try selection(in: catalog)
            damaged = selected.damaged
            reported.update { $0.damaged += selected.damaged }
            var copier = BackupCopier()
            copier.lockLease = job.lockLease
            copier.waitForLock = wait
            try await SignalCancellation.throwing { [copier] in
                try await copier.copy(selected.records, job: job.name, from: source.destination,
                                      to: target.destination, logger: logger) { record, result in
                    switch result {
                    case .copied(let location):
                        counts.withLock { $0.copied += 1 }
                        reported.update { $0.copied.append(Copied(file: record.name, location: location)) }
                        say("copied \(record.name) to \(location)")
                    case .present:
                        counts.withLock { $0.present += 1 }
                        reported.update { $0.present.append(record.name) }
                        say("\(record.name): already at \(to)")
                    }
                }
            }
        } catch let interrupted as Interrupted {
            throw Failure(message: "copy interrupted by signal \(interrupted.signal); "
                          + "the copy in progress was removed", exitCode: 128 + interrupted.signal)
        } catch {
            throw Failure(message: "copy of job \(job.name) from \(from) to \(to) failed: \(error)", exitCode: 1)
        }
        let done = counts.withLock { $0 }
        return (done.copied, done.present, damaged)
    }

    /// The backups `--backup` names in `catalog`; with `all`, also the names of what is there but is not a
    /// whole backup, each reported as not copied.
    private func selection(in catalog: JobCatalog) throws -> (records: [BackupRecord], damaged: [String]) {
        guard backup == "all" else { return ([try catalog.find(BackupSelector(backup)).record], []) }
        try catalog.requireListed()
        var damaged: [String] = []
        for (_, problem) in catalog.problems where !problem.leftover {
            say("\(problem.name): NOT COPIED, not a whole backup (\(problem.problem))")
            damaged.append(problem.name)
        }
        return (catalog.backups.map(\.record), damaged)
    }
}
