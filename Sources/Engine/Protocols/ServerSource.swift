import Logging

/// A source that stands for a whole server rather than one database (a job whose database is `*`): at
/// the start of every run it names the databases to back up, and makes a source for each. Each database is
/// then backed up as a job of its own (``JobName/forDatabase(_:of:)``), with its own manifest, retention
/// and verification.
///
/// Implementation requirements:
/// - `databases` asks the server now, so a database created since the last run is in the list; it applies
///   the job's include and exclude patterns and leaves out what cannot be dumped by design (templates,
///   databases that allow no connections). It fails with a ``BackupError`` naming what to fix when it
///   cannot ask (`.unreachable`, `.authentication`).
/// - `source(forDatabase:)` is a plain ``Source`` of that one database, with the server's settings; a
///   database that cannot be dumped (dropped since, no CONNECT) fails in its `prepare`, not here.
/// - `forRun(databases:)` is this source with the run's list of databases, which its own dump records
///   as the databases of that run (rather than asking the server again).
public protocol ServerSource: Source {
    func databases(logger: Logger) async throws -> [String]
    func source(forDatabase name: String) -> any Source
    func forRun(databases: [String]) -> any ServerSource
}
