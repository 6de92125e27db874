import Foundation

/// Stores backups somewhere: a directory, an object store.
///
/// Implementation requirements:
/// - `checkWritable` fails with `BackupError(.destination, …)` naming the place and the fix when the
///   destination is missing or cannot be written, before any dump starts.
/// - `list(prefix:)` returns every object (data and sidecars) in the destination's own area whose name
///   starts with `prefix`, never partial uploads; it throws when the listing fails (never an empty list).
/// - `read` and `stream` fail with `BackupError(.notFound, …)` when the object does not exist.
/// - `delete` removes one object; deleting a missing one is not an error.
/// - Destinations never decide what to delete; the engine does, from `list`.
public protocol Destination: Sendable {
    func checkWritable() async throws
    func begin(name: String) async throws -> any Upload
    func list(prefix: String) async throws -> [StoredObject]
    func read(name: String) async throws -> [UInt8]
    /// Writes a small object (a manifest) in one step, replacing an existing one atomically.
    func replace(name: String, bytes: [UInt8]) async throws
    /// Streams one object in chunks of about `chunkSize` bytes, for data too large to hold in memory.
    func stream(name: String, chunkSize: Int, into sink: ([UInt8]) async throws -> Void) async throws
    func delete(name: String) async throws
    /// A path on this machine where `object` can be read and seeked directly (a parallel restore needs a
    /// seekable file), or nil when the destination cannot hand one out, as remote storage cannot.
    func localFile(_ object: StoredObject) -> String?
}

extension Destination {
    public func localFile(_ object: StoredObject) -> String? { nil }
}

extension Destination {
    /// Every object in the destination's own area.
    public func list() async throws -> [StoredObject] { try await list(prefix: "") }

    /// A small object (a manifest, a sidecar) read whole, failing with `.corrupt` once it passes `limit`
    /// bytes: what a stored file is, is never trusted to be small.
    public func read(name: String, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await stream(name: name, chunkSize: min(limit + 1, 1 << 20)) { chunk in
            guard bytes.count + chunk.count <= limit else {
                throw BackupError(.corrupt, "\(name) is larger than the \(limit) bytes such a file may be; "
                                  + "it is damaged or not ours")
            }
            bytes += chunk
        }
        return bytes
    }
}
