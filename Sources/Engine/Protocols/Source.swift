import Logging

/// What a source learned about the database before dumping it; recorded in the manifest.
public struct SourceInfo: Sendable {
    public var database: String
    public var serverVersion: String
    public var dumpToolVersion: String
    /// The path of the tool that will make the dump.
    public var dumpTool: String
    /// The dump format's name, e.g. `plain` or `custom`.
    public var format: String
    /// The file extension of the uncompressed dump, e.g. `sql` or `dump`.
    public var fileExtension: String
    /// A rough size of the uncompressed dump, for progress; nil when unknown.
    public var estimatedBytes: Int64?

    public init(
        database: String, serverVersion: String, dumpToolVersion: String, dumpTool: String, format: String,
        fileExtension: String, estimatedBytes: Int64?
    ) {
        self.database = database
        self.serverVersion = serverVersion
        self.dumpToolVersion = dumpToolVersion
        self.dumpTool = dumpTool
        self.format = format
        self.fileExtension = fileExtension
        self.estimatedBytes = estimatedBytes
    }
}

/// What a source learned while dumping, taken in the same snapshot as the dump; recorded with the backup.
public struct DumpDetails: Sendable {
    /// Exact rows per table (`schema.table`), nil when the source did not count them.
    public var rowCounts: [String: Int64]?
    /// Small files stored beside the backup as `<backup><suffix>`, e.g. what a restore needs besides the
    /// dump itself. Listed in the manifest (with size and SHA-256) so retention deletes them with the backup
    /// and a restore checks them. A suffix is `.<word>.json`, the word lower-case letters (not `manifest`):
    /// any other name in a stored manifest is taken for damage and never read.
    public var sidecars: [(suffix: String, bytes: [UInt8])]

    public init(rowCounts: [String: Int64]? = nil, sidecars: [(suffix: String, bytes: [UInt8])] = []) {
        self.rowCounts = rowCounts
        self.sidecars = sidecars
    }
}

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
    func prepare(logger: Logger) async throws -> SourceInfo
    func dump(_ info: SourceInfo, logger: Logger, sink: DumpSink) async throws -> DumpDetails
}

/// Where a source delivers its dump: the first stage of the backup pipeline. It holds a fixed number of
/// chunks; a send waits while it is full, so a slow compressor or disk slows the source down.
public final class DumpSink: Sendable {
    /// Chunks of about this size keep the pipeline's hand-overs cheap and its memory small.
    public static let preferredChunkSize = 256 << 10

    private let channel: BoundedChannel<[UInt8]>
    private let counted: @Sendable (Int) -> Void

    /// `counted` hears the size of every chunk accepted, on the sender's task or thread.
    init(channel: BoundedChannel<[UInt8]>, counted: @escaping @Sendable (Int) -> Void) {
        self.channel = channel
        self.counted = counted
    }

    /// Hands over `chunk`, suspending while the pipeline is full; throws once the pipeline failed.
    public func send(_ chunk: [UInt8]) async throws {
        try Task.checkCancellation()
        try await channel.send(chunk)
        counted(chunk.count)
    }

    /// Hands over `chunk` from a dedicated thread, blocking it while the pipeline is full.
    public func sendBlocking(_ chunk: [UInt8]) throws {
        try channel.sendBlocking(chunk)
        counted(chunk.count)
    }
}

extension Source {
    public var databaseName: String? { nil }
}

/// Makes a ``Source`` from its settings.
public protocol SourceFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any Source
    /// The name of the only job of a configuration file without `[job]` sections (the database's name).
    func defaultJobName(_ settings: PluginSettings) -> String?
    /// The external tools this machine offers the source, one line each (a tool's name, version and path),
    /// for `check-config`: what an operator reads in a pod's log to see which servers it can back up.
    /// Empty when the source needs no tool.
    func tools() async -> [String]
}

extension SourceFactory {
    public func tools() async -> [String] { [] }
}
