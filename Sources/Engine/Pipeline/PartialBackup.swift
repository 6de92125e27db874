/// A run that published its backup to some of the job's destinations but not all (or whose retention
/// failed at one): the copies that were published stay, and the run fails, naming each destination and why.
public struct PartialBackup: Error, CustomStringConvertible, Sendable {
    public var outcome: BackupOutcome
    public var failures: [DestinationFailure]

    public var description: String {
        let stored = outcome.copies.map(\.destination).joined(separator: ", ")
        return "partial backup: stored at \(stored) (\(outcome.record.name)); failed at "
            + failures.map(\.description).joined(separator: "; ")
    }
}
