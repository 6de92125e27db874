import ArgumentParser
import Engine
import Foundation
import Logging

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Apply each job's retention now; --dry-run shows keep or delete, and why.")

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

    func validate() throws {
        if let asOf, Timestamp.parseISO8601(asOf) == nil {
            throw ValidationError("--as-of must be an ISO 8601 time such as 2027-01-31T00:00:00Z")
        }
    }

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let now = asOf.flatMap(Timestamp.parseISO8601) ?? Date()
            // Each destination by its own retention policy, as after a backup.
            for job in try await options.loadJobs(only: job).withDatabaseJobs() {
                guard !dryRun else {
                    // Deletes nothing, so it needs no lock: it shows what a prune would do now.
                    for target in job.destinations { try await prune(job, at: target, now: now, logger: logger) }
                    continue
                }
                // A backup's retention decides over the same files: one or the other at a time.
                let locks = JobLockSession(wait: wait, lease: job.lockLease)
                do {
                    try await locks.with(job: job.name, at: job.destinations.map { ($0.name, $0.destination) },
                                         logger: logger) { [self] _ in
                        for target in job.destinations { try await prune(job, at: target, now: now, logger: logger) }
                    }
                } catch let failure as Failure {
                    throw failure
                } catch {
                    throw Failure(message: "prune of job \(job.name) failed: \(error)", exitCode: 1)
                }
            }
        }
    }

    private func prune(_ job: Job, at target: JobDestination, now: Date, logger: Logger) async throws {
        let at = job.at(target.name)
        let context = RetentionContext(now: now, timeZone: job.timeZone)
        let decisions: [RetentionDecision]
        do {
            let records = try await BackupCatalog.records(of: job.name, database: job.database, in: target.destination)
            decisions = try await RetentionRunner.review(job, at: target, records: records, justMade: nil,
                                                         context: context)
        } catch {
            throw Failure(message: "prune of job \(job.name)\(at) failed: \(error)", exitCode: 1)
        }
        let doomed = decisions.filter { !$0.keep }.map(\.backup)
        print("[\(job.name)]\(at) \(decisions.filter(\.keep).count) kept, \(doomed.count) to delete")
        for decision in decisions {
            let verdict = decision.keep ? "keep  " : "delete"
            print("  \(verdict)  \(Timestamp.iso8601(decision.backup.created))  \(decision.backup.name)  "
                  + "(\(decision.reason))")
        }
        guard !dryRun else { return }
        do {
            try await RetentionRunner.delete(doomed, from: job, at: target, logger: logger)
        } catch {
            throw Failure(message: "prune of job \(job.name)\(at) failed: \(error)", exitCode: 1)
        }
    }
}
