import Logging

/// Hands the dump, its stages undone, to a restore, chunk by chunk, into the sink it is given.
public typealias DumpFeed = (_ sink: ([UInt8]) async throws -> Void) async throws -> Void

/// A source that can also put a backup back.
///
/// Implementation requirements:
/// - `describe` returns, without changing anything, the steps `restore` would take, for people to read.
/// - `preflight` makes every check `restore` makes before it changes anything (the server answers, the
///   target is free or the mode replaces it, nothing is in the way), changes nothing, and throws what
///   `restore` would; it returns what it found, for people to read.
/// - `restore` never changes an existing database unless the mode says so, and leaves nothing it created
///   behind when it fails (including on cancellation), roles included: a failed in-place restore leaves
///   the original as it was, and a `.scratch` restore leaves nothing at all in every case.
/// - It consumes the dump only through `feed`, streaming; it never needs disk space for an uncompressed copy.
public protocol RestorableSource: Source {
    func describe(_ request: RestoreRequest) async throws -> [String]
    func preflight(_ request: RestoreRequest) async throws -> [String]
    func restore(_ request: RestoreRequest, logger: Logger, feed: DumpFeed) async throws -> RestoreReport
}
