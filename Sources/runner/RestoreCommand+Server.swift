import Engine
import Foundation
import Logging

extension RestoreCommand {
    /// `restore --server`: the plan (the roles, then every database), then the restore; exit 1 naming each
    /// database that failed, the others restored.
    func restoreServer(reported: Reported, logger: Logger) async throws {
        let (process, jobs) = try options.loadConfiguration(only: job, overrides: keys.overrides, forReading: true)
        let (job, location) = try await BackupChoice.resolve(jobs: jobs, named: self.job, backup: backup, from: from)
        reported.backup(location, job: job.name)
        let choices = try choices(for: job)
        let plan: ServerRestore
        do {
            plan = try await ServerRestore(location, job: job, patterns: databasePatterns,
                                           inPlace: yes ? (force, dropPrevious) : nil, options: choices,
                                           pipeline: RestorePipeline(registry: ProcessSettings.registry))
        } catch {
            throw Failure(message: "restore failed: \(error)", exitCode: 1)
        }
        let record = location.record
        let steps = try await plan.describe()
        reported.update { $0.plan = steps }
        say("\(dryRun ? "Would restore" : "Restoring") the whole server from \(record.object.location) "
            + "(job \(record.manifest.job), made \(Timestamp.iso8601(record.created))), \(process.parallel) "
            + "database(s) at a time:")
        for step in steps { say("  - \(step)") }
        if dryRun { return say("Nothing was changed (--dry-run).") }
        let clock = ContinuousClock()
        let start = clock.now
        let outcome: (roles: [String], results: [ServerRestore.Result])
        do {
            outcome = try await SignalCancellation.throwing {
                try await plan.restore(parallelism: process.parallel, logger: logger)
            }
        } catch let interrupted as Interrupted {
            throw Failure(message: "restore interrupted by signal \(interrupted.signal); the databases being restored"
                          + " were dropped; those restored before, and the roles created, stay",
                          exitCode: 128 + interrupted.signal)
        } catch {
            throw Failure(message: "restore failed: \(error)", exitCode: 1)
        }
        tell(outcome)
        let failed = outcome.results.filter { $0.report == nil }
        let elapsed = (clock.now - start).inSeconds
        let seconds = String(format: "%.1f", elapsed)
        reported.update {
            $0.createdRoles = outcome.roles
            $0.seconds = (elapsed * 1000).rounded() / 1000
            $0.databases = outcome.results.map {
                ServerDatabase(database: $0.database, tables: $0.report?.rowCounts.count,
                               rows: $0.report?.rowCounts.values.reduce(0, +),
                               previousDatabase: $0.report?.previousDatabase, error: $0.error)
            }
        }
        guard failed.isEmpty else {
            let named = failed.map { "\($0.database.debugDescription): \($0.error ?? "?")" }
            throw Failure(message: "restore --server: \(failed.count) of \(outcome.results.count) databases"
                          + " not restored (the others are): " + named.joined(separator: "; "), exitCode: 1)
        }
        say("Restored \(outcome.results.count) databases in \(seconds)s.")
    }

    /// The roles created and each database's outcome, a line each.
    private func tell(_ outcome: (roles: [String], results: [ServerRestore.Result])) {
        if !outcome.roles.isEmpty { say("Created roles: \(outcome.roles.joined(separator: ", "))") }
        for result in outcome.results {
            if let report = result.report {
                let rows = report.rowCounts.values.reduce(0, +)
                say("Restored \(result.database.debugDescription): \(report.rowCounts.count) tables, \(rows) rows"
                    + (report.previousDatabase.map { "; the previous one is kept as \($0)" } ?? ""))
            } else {
                say("FAILED \(result.database.debugDescription): \(result.error ?? "?")")
            }
        }
    }
}
