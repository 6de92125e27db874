import Logging

/// A whole-server source that can put a whole run back onto a server: first what its own backup holds
/// (the server's roles), then each database, restored by the job of that database as any backup is.
///
/// Implementation requirements:
/// - Every method that takes `globals` is given the bytes of the job's own backup, its stages undone and
///   its checksum proven; it reads them as data and refuses what this source did not write, never running
///   any of it as it stands.
/// - `describeServer` changes nothing. `restoreServer` creates what the target lacks (roles, memberships),
///   never changes what exists, and undoes what it created when that fails; then it runs `databases` (the
///   restores of the run's databases) with whatever they share in place (a restoring role's borrowed
///   memberships, say), and takes that away after, whatever `databases` did. What it created stays once
///   `databases` ran: the databases restored need it.
public protocol RestorableServerSource: ServerSource {
    /// The databases the run found and backed up, as its own backup records them.
    func runDatabases(_ globals: [UInt8]) throws -> [String]
    /// What `restoreServer` would do, one line each, for people to read.
    func describeServer(_ globals: [UInt8], options: RestoreOptions) async throws -> [String]
    /// Creates the server-wide things the target lacks, then runs `databases`; the roles created, in order.
    func restoreServer(
        _ globals: [UInt8], options: RestoreOptions, logger: Logger, databases: () async throws -> Void
    ) async throws -> [String]
    /// The databases the target server has now.
    func existingDatabases() async throws -> Set<String>
}
