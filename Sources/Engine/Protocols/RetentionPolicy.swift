/// Decides which of a job's stored backups to keep.
///
/// Implementation requirements:
/// - `decide` is a pure function of its arguments: it looks at what is stored, never at a state file.
/// - It returns exactly one decision per backup given. The engine adds its own guarantees on top (the
///   newest backup and the one just made are always kept), so a policy need not repeat them.
public protocol RetentionPolicy: Sendable {
    func decide(_ backups: [BackupRecord], context: RetentionContext) -> [RetentionDecision]
}
