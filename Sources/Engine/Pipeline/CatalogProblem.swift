/// Something in a job's area of a destination that is not a whole backup: a backup without a readable
/// manifest, or a sidecar whose backup is gone.
public struct CatalogProblem: Sendable, Equatable {
    public var name: String
    public var location: String
    /// What is wrong, for people.
    public var problem: String
    /// True when only an interrupted run of this job (publishing, or retention deleting) leaves this
    /// behind, so the start-up clean-up may remove it; false for what needs a person's look.
    public var leftover: Bool
}
