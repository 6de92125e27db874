import ArgumentParser
import Engine
import Foundation
import Logging

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Apply each job's retention now; --dry-run shows keep or delete, and why.",
        discussion: """
            Each destination by its own policy, as after a backup. It holds the job's lock, so it fails at once \
            while a backup of the job runs (or waits, with --wait).

            Examples:
              backup prune --dry-run
              backup prune --job shop --dry-run --as-of 2027-01-31T00:00:00Z
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "Prune only this job.")
    var job: String?

    @Flag(name: .long, help: "Only list each backup with keep or delete and the reason.")
    var dryRun = false

    @Option(name: .long,
            help: "Decide as if it were this time (ISO 8601, e.g. 2027-01-31T00:00:00Z); implies nothing else.")
    var asOf: String?

    @Flag(name: .long, help: "If a run of the job holds its lock, wait for it instead of failing.")
    var wait = false

    @Flag(name: .long, help: "Print a JSON object (version 1, see README) instead of text.")
    var json = false

    /// `backup prune --json`: per job and destination, every backup with what was decided and why.
    struct Report: Encodable {
        var version = 1
        var dryRun: Bool
        var asOf: String
        var destinations: [Destination]

        enum CodingKeys: String, CodingKey {
            case version, destinations
            case dryRun = "dry_run"
            case asOf = "as_of"
        }
    }

    struct Destination: Encodable {
        var job: String
        var destination: String
        /// Oldest first, as `list` shows them.
        var backups: [Decision]
        /// True once the backups decided `delete` were deleted (never with --dry-run).
        var deleted: Bool
    }

    struct Decision: Encodable {
        var file: String
        var id: String?
        var created: String
        /// `keep` or `delete`.
        var action: String
        var reason: String
    }

    func validate() throws {
        if let asOf, Timestamp.parseISO8601(asOf) == nil {
            throw ValidationError("--as-of must be an ISO 8601 time such as 2027-01-31T00:00:00Z")
        }
    }

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let now = asOf.flatMap(Timestamp.parseISO8601) ?? Date()
            let report = Reported()
            defer { if json { print((try? JSONOutput.string(Report(
                dryRun: dryRun, asOf: Timestamp.iso8601(now), destinations: report.destinations))) ?? "") } }
            // Each destination by its own retention policy, as after a backup.
            for job in try await options.loadJobs(only: job).withDatabaseJobs() {
                guard !dryRun else {
                    // Deletes nothing, so it needs no lock: it shows what a prune would do now.
                    for target in job.destinations {
                        try await prune(job, at: target, now: now, report: report, logger: logger)
                    }
                    continue
                }
                // A backup's retention decides over the same files: one or the other at a time.
                let locks = JobLockSession(wait: wait, lease: job.lockLease)
                do {
                    try await locks.with(job: job.name, at: job.destinations.map { ($0.name, $0.destination) },
                                         logger: logger) { [self] _ in
                        for target in job.destinations {
                            try await prune(job, at: target, now: now, report: report, logger: logger)
                        }
                    }
                } catch let failure as Failure {
                    throw failure
                } catch {
                    throw Failure(message: "prune of job \(job.name) failed: \(error)", exitCode: 1)
                }
            }
        }
    }

    /// What `--json` prints at the end, filled in as destinations are pruned (also when one fails).
    final class Reported: @unchecked Sendable {
        var destinations: [Destination] = []
    }

    private func prune(
        _ job: Job, at target: JobDestination, now: Date, report: Reported, logger: Logger
    ) async throws {
        let at = job.at(target.name)
        let context = RetentionContext(now: now, timeZone: job.timeZone)
        let decisions: [RetentionDecision]
        do {
            let records = try await BackupCatalog.records(of: job.name, database: job.database, in: target.destination)
            decisions = try await RetentionRunner.review(job, at: target, records: records, justMade: nil,
                                                         context: context)
                .sorted { $0.backup.created < $1.backup.created }
        } catch {
            throw Failure(message: "prune of job \(job.name)\(at) failed: \(error)", exitCode: 1)
        }
        let doomed = decisions.filter { !$0.keep }.map(\.backup)
        report.destinations.append(Destination(job: job.name, destination: target.name, backups: decisions.map {
            Decision(file: $0.backup.name, id: JobName.id(of: $0.backup.name, job: job.name),
                     created: Timestamp.iso8601($0.backup.created), action: $0.keep ? "keep" : "delete",
                     reason: $0.reason)
        }, deleted: false))
        if !json {
            print("[\(job.name)]\(at) \(decisions.filter(\.keep).count) to keep, \(doomed.count) to delete")
            let rows = decisions.map {
                [$0.keep ? "keep" : "delete", Timestamp.iso8601($0.backup.created), $0.backup.name, "(\($0.reason))"]
            }
            for line in TextTable.lines(rows, indent: "  ") { print(line) }
        }
        guard !dryRun else { return }
        do {
            try await RetentionRunner.delete(doomed, from: job, at: target, logger: logger)
        } catch {
            throw Failure(message: "prune of job \(job.name)\(at) failed: \(error)", exitCode: 1)
        }
        report.destinations[report.destinations.count - 1].deleted = true
        if !json { print("[\(job.name)]\(at) deleted \(doomed.count)") }
    }
}
