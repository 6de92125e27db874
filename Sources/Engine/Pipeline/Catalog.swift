/// What a job's area of a destination holds: whole backups, and whatever is wrong.
public struct Catalog: Sendable {
    /// The job's backups, oldest first.
    public var records: [BackupRecord]
    public var problems: [CatalogProblem]
}
