import Foundation
import Logging

extension BackupPipeline {
    /// A whole-server job (its source a ``ServerSource``): the databases the server has now, each backed up
    /// as a job of its own (``JobName/forDatabase(_:of:)``), `databaseParallelism` at a time, after the
    /// server's roles and tablespaces (the source's own dump, the job's own backup); then one event for the
    /// run naming each database and how it fared (``runAndReport(_:logger:onEvent:)`` tells it). A database
    /// that fails fails only its own backup: the run is then `partial`, or `failure` when none was backed up.
    func runServer(_ job: Job, server: any ServerSource, logger: Logger) async -> JobEvent {
        let clock = ContinuousClock()
        let begin = clock.now
        do {
            let databases = try await server.databases(logger: logger)
            logger.info("whole-server job: \(databases.count) databases to back up",
                        metadata: ["job": "\(job.name)", "databases": "\(databases.joined(separator: ", "))"])
            var recording = job
            recording.source = server.forRun(databases: databases)
            let globals = try await backUpGlobals(recording, logger: logger)
            var run = job
            run.serverRun = globals.file
            let results = try await backUpEach(databases, of: run, logger: logger)
            let event = JobEvent(job, databases: results, globalsError: globals.error,
                                 duration: (clock.now - begin).inSeconds)
            if let error = event.error { logger.error("backup failed: \(error)", metadata: ["job": "\(job.name)"]) }
            return event
        } catch {
            return Self.failed(job, error, duration: (clock.now - begin).inSeconds, logger: logger)
        }
    }

    /// The server's own dump (its roles and tablespaces), as the job's own backup: its file name, or why it
    /// failed. It is never verified: a server's roles are restored with its databases, not on their own.
    private func backUpGlobals(_ job: Job, logger: Logger) async throws -> (file: String?, error: String?) {
        var globals = job
        globals.verifyAfterBackup = false
        do {
            return (try await run(globals, logger: logger).record.name, nil)
        } catch let partial as PartialBackup {
            return (partial.outcome.record.name, "\(partial)")
        } catch {
            if Task.isCancelled || error is CancellationError { throw error }
            return (nil, "\(error)")
        }
    }

    /// Backs up each of `databases`, at most `databaseParallelism` at once; each one's result, in order.
    /// Throws only when the run was cancelled.
    private func backUpEach(_ databases: [String], of job: Job,
                            logger: Logger) async throws -> [JobEvent.DatabaseResult] {
        try await databases.boundedMap(limit: databaseParallelism) { try await backUp($0, of: job, logger: logger) }
    }

    private func backUp(_ database: String, of job: Job, logger: Logger) async throws -> JobEvent.DatabaseResult {
        guard let sub = job.forDatabase(database) else {
            return .init(database: database, status: .failure, file: nil, bytes: 0, rawBytes: 0,
                         error: "the database's name is too long to name its backups after")
        }
        do {
            return .init(database, try await run(sub, logger: logger), status: .success, error: nil)
        } catch let partial as PartialBackup {
            return .init(database, partial.outcome, status: .partial, error: "\(partial)")
        } catch {
            if Task.isCancelled || error is CancellationError { throw error }
            return .init(database: database, status: .failure, file: nil, bytes: 0, rawBytes: 0, error: "\(error)")
        }
    }
}

extension JobEvent.DatabaseResult {
    /// The result of `database`'s run that stored `outcome` (everywhere, or at some destinations).
    init(_ database: String, _ outcome: BackupOutcome, status: JobEvent.Status, error: String?) {
        let manifest = outcome.record.manifest
        self.init(database: database, status: status, file: outcome.record.object.location,
                  bytes: manifest.storedBytes, rawBytes: manifest.rawBytes, error: error)
    }
}
