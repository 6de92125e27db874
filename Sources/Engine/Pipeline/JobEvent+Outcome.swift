import Foundation

extension JobEvent {
    /// The event of a run that stored its backup at one destination or more: `partial` when `failures`
    /// names a destination.
    init(_ job: Job, _ outcome: BackupOutcome, failures: [DestinationFailure], error: String? = nil,
         duration: Double) {
        let manifest = outcome.record.manifest
        self.init(job: job.name, database: manifest.database, status: failures.isEmpty ? .success : .partial,
                  bytes: manifest.storedBytes, rawBytes: manifest.rawBytes, durationSeconds: duration,
                  file: outcome.record.object.location, error: error,
                  verification: job.verifyAfterBackup ? "passed" : nil, finishedAt: Date())
        destinations = job.destinations.map { target in
            let copy = outcome.copies.first { $0.destination == target.name }
            let failure = failures.first { $0.destination == target.name }
            return DestinationResult(name: target.name, status: failure == nil && copy != nil ? .success : .failure,
                                     file: copy?.record.object.location, error: failure.map { "\($0.error)" })
        }
    }

    /// The event of a run that stored nothing.
    init(_ job: Job, failedWith error: any Error, duration: Double) {
        let verification = (error as? BackupError)?.code == .verificationFailed ? "failed: \(error)" : nil
        self.init(job: job.name, database: job.source.databaseName, status: .failure, bytes: 0, rawBytes: 0,
                  durationSeconds: duration, file: nil, error: "\(error)", verification: verification,
                  finishedAt: Date())
    }
}

extension JobEvent {
    /// The event of a whole-server run: `success` when every database was backed up everywhere, `failure`
    /// when none was (or there was none to back up), else `partial`; `error` names each database that failed,
    /// and the server's roles when their backup failed (`globalsError`).
    init(_ job: Job, databases: [DatabaseResult], globalsError: String?, duration: Double) {
        let stored = databases.filter { $0.status != .failure }
        let failed = databases.filter { $0.status != .success }
        let status: Status = failed.isEmpty && globalsError == nil && !databases.isEmpty ? .success
            : stored.isEmpty ? .failure : .partial
        var problems = databases.isEmpty ? ["the server has no database the job's patterns select"]
            : failed.isEmpty ? []
            : ["\(failed.count) of \(databases.count) databases failed: "
                + failed.map { "\($0.database): \($0.error ?? "failed")" }.joined(separator: "; ")]
        if let globalsError { problems.insert("the server's roles and tablespaces: \(globalsError)", at: 0) }
        let error = problems.isEmpty ? nil : problems.joined(separator: "; ")
        self.init(job: job.name, database: nil, status: status, bytes: stored.reduce(0) { $0 + $1.bytes },
                  rawBytes: stored.reduce(0) { $0 + $1.rawBytes }, durationSeconds: duration, file: nil,
                  error: error, verification: nil, finishedAt: Date())
        self.databases = databases
    }
}
