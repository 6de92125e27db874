/// How retention proves the backups it keeps before it deletes anything (`retention.check`).
public enum RetentionCheck: String, Sendable {
    /// Compare each backup's stored size with its manifest, and honour failed verifications: catches a
    /// truncated or replaced file at no cost.
    case size
    /// Also re-hash, with SHA-256, every backup kept in place of one about to be deleted: catches a flipped
    /// bit too, at the cost of reading those backups whenever something is deleted.
    case checksum
}
