/// What verifying one backup found.
public struct VerifyOutcome: Sendable {
    public var checks: [RowCountCheck]
    /// False when the backup has no row counts, so only its checksum was checked.
    public var restored: Bool

    public var mismatches: [RowCountCheck] { checks.filter { !$0.matches } }

    /// One line naming every mismatch, or nil when all tables match.
    public var problem: String? {
        let wrong = mismatches
        guard !wrong.isEmpty else { return nil }
        func rows(_ count: Int64?) -> String { count.map(String.init) ?? "missing" }
        return "row counts differ in " + wrong.map {
            "\($0.table) (expected \(rows($0.expected)), restored \(rows($0.restored)))"
        }.joined(separator: ", ")
    }
}
