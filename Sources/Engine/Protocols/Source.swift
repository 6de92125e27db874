import Logging

/// Produces a database dump as a stream of bytes.
///
/// Implementation requirements:
/// - `prepare` checks, before anything is written anywhere, that the server is reachable, the credentials
///   work and the database exists, and finds the tool that will dump it. It fails with a ``BackupError``
///   whose message names what to fix (`.unreachable`, `.authentication`, `.databaseMissing`,
///   `.toolMissing`).
/// - `dump` hands consecutive chunks to `sink` (about ``DumpSink/preferredChunkSize`` bytes each suits
///   the pipeline best) and returns only when the dump completed successfully, with the details it
///   gathered in the dump's own snapshot. A source reading a pipe may do so on a thread of its own with
///   ``DumpSink/sendBlocking(_:)``; never block a task.
///   If the dump tool fails, is killed, or exits non-zero, `dump` throws `.sourceFailed`, even when some
///   bytes were already delivered. If `sink` throws, the dump is stopped and its process reaped before
///   `dump` rethrows.
/// - Secrets never appear in process arguments, logs or error messages.
public protocol Source: Sendable {
    /// The database this source dumps, for notifications about runs that failed before `prepare` said.
    var databaseName: String? { get }
    /// When a setting puts secrets into the dump (password hashes, say): that setting's key, as the
    /// configuration writes it. A job with such a source and no encryption stage is refused when loaded.
    var secretSetting: String? { get }
    func prepare(logger: Logger) async throws -> SourceInfo
    func dump(_ info: SourceInfo, logger: Logger, sink: DumpSink) async throws -> DumpDetails
}

extension Source {
    public var databaseName: String? { nil }
    public var secretSetting: String? { nil }
}
