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
