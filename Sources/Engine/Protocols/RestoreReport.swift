/// What a restore did.
public struct RestoreReport: Sendable {
    /// The database that now holds the restored data (for `.scratch`, the one that held it).
    public var database: String
    /// Exact rows per table (`schema.table`) in the restored database.
    public var rowCounts: [String: Int64]
    /// For an in-place restore that kept the original: the name it was renamed to.
    public var previousDatabase: String?
    /// Roles that did not exist and were created.
    public var createdRoles: [String]
    /// Where the time went, in order (e.g. fetching and decoding, the data, the indexes), when the source
    /// measured it; empty otherwise.
    public var phases: [RestorePhase] = []

    public init(
        database: String, rowCounts: [String: Int64], previousDatabase: String? = nil, createdRoles: [String] = []
    ) {
        self.database = database
        self.rowCounts = rowCounts
        self.previousDatabase = previousDatabase
        self.createdRoles = createdRoles
    }
}
