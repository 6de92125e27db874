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
