import Foundation

/// An object stored at a destination, as its listing reports it.
public struct StoredObject: Sendable, Equatable {
    public var name: String
    /// Where a person finds it: an absolute path for local storage, a URL for remote storage.
    public var location: String
    public var bytes: Int64

    public init(name: String, location: String, bytes: Int64) {
        self.name = name
        self.location = location
        self.bytes = bytes
    }
}

/// A backup being written; it becomes visible under its final name only on `commit`.
///
/// Implementation requirements:
/// - Nothing written is visible under `name` or any sidecar name until `commit` returns.
/// - `commit` makes the data and the sidecars durable (for files: fsync the file, rename, fsync the
///   directory), writing the sidecars before the data becomes visible, and never replaces an existing object.
/// - `abort` removes everything written so far; it is safe to call after a failed `write` or `commit`.
/// - A full destination fails `write` with `BackupError(.destinationFull, …)`.
public protocol Upload: AnyObject {
    func write(_ bytes: [UInt8]) async throws
    func commit(sidecars: [(name: String, bytes: [UInt8])]) async throws -> StoredObject
    func abort() async
}

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
                throw BackupError(.corrupt, "\(name) is larger than the \(limit) bytes such a file may be; it is damaged or not ours")
            }
            bytes += chunk
        }
        return bytes
    }
}

/// A held per-job lock. Where the store has no lock that its holder's death releases (an object store),
/// it is a lease: it names its holder and lapses unless renewed, so a holder that died is taken over
/// once its lease ran out.
///
/// Implementation requirements:
/// - `renew` extends the lease by the `lease` it was taken with; it throws `BackupError(.targetBusy, …)`
///   when the lock is no longer this holder's (it lapsed and another took it), and the job then stops.
/// - `release` gives the lock up, so the next run need not wait for a lease to lapse; it may fail (a
///   network store), and a lock not released is then taken over when its lease runs out.
public protocol JobLock: AnyObject, Sendable {
    func renew() async throws
    func release() async throws
}

/// Destinations that can serialise runs of one job across processes (and pods sharing the storage).
///
/// Implementation requirements:
/// - `lock` fails at once with `BackupError(.targetBusy, …)` naming the holder when another process
///   holds the job's lock, unless `wait`, in which case it waits until the lock is free.
/// - A lock whose holder died (the kernel released it, or its lease ran out without renewal) is taken
///   over, not obeyed; the returned `tookOverFrom` names that holder.
/// - `lease` is how long a lock lasts without `renew`; stores whose locks die with their holder may
///   ignore it.
/// - `removeLeftovers` deletes partial uploads of the job that a killed process left behind and returns
///   their names; it is called only while holding the job's lock.
public protocol LockingDestination: Destination {
    func lock(job: String, wait: Bool, lease: Duration) async throws -> (lock: any JobLock, tookOverFrom: String?)
    func removeLeftovers(job: String) async throws -> [String]
}

/// Makes a ``Destination`` from its settings.
public protocol DestinationFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any Destination
    /// The destination and object name a location written by a person means (`restore --backup`): a
    /// path for local storage, a URL for remote storage; nil when the location is not of this plugin's
    /// form. Credentials and other settings come from `settings`, the job's settings of this plugin.
    func resolve(location: String, settings: PluginSettings) throws -> (destination: any Destination, name: String)?
}

extension DestinationFactory {
    public func resolve(location: String, settings: PluginSettings) throws -> (destination: any Destination, name: String)? { nil }
}
