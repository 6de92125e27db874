import Engine
import Foundation
import Synchronization

/// A lease this holder wrote; it knows the ETag of its own last write.
final class S3JobLock: JobLock {
    private let destination: S3Destination
    private let key: String
    private let holder: String
    private let lease: Duration
    private let etag: Mutex<String>

    init(destination: S3Destination, key: String, holder: String, lease: Duration, etag: String) {
        self.destination = destination
        self.key = key
        self.holder = holder
        self.lease = lease
        self.etag = Mutex(etag)
    }

    func renew() async throws {
        let next = S3Destination.Lease(holder: holder, expires: Date().timeIntervalSince1970 + lease.inSeconds)
        var written = try await destination.write(next, to: key, condition: ("if-match", etag.withLock { $0 }))
        if written == nil, let current = try await ownETag() {
            // An earlier write whose answer was lost (a retried request) changed the ETag; still ours.
            written = try await destination.write(next, to: key, condition: ("if-match", current))
        }
        guard let written else {
            throw BackupError(.targetBusy, "the job's lock \(destination.client.location(key))"
                + " was taken over by another run after its lease ran out; this run stops")
        }
        etag.withLock { $0 = written }
    }

    /// The lease's current ETag when the stored lease still names this holder.
    private func ownETag() async throws -> String? {
        guard let found = try await destination.readLease(key), found.lease?.holder == holder else { return nil }
        return found.etag
    }

    func release() async throws {
        let operation = "DeleteObject \(destination.client.location(key))"
        let deleted = try await destination.client.call(.DELETE, key: key,
                                                        headers: [("if-match", etag.withLock { $0 })],
                                                        operation: operation,
                                                        accept: { (200..<300).contains($0) || $0 == 404 || $0 == 412 })
        // A renewal stopped mid-flight (a signal) may have reached the store with its answer lost, so the
        // lease has an ETag this holder never saw; it is still this holder's if it names this holder.
        guard deleted.status == 412, let current = try await ownETag() else { return }
        try await destination.client.call(.DELETE, key: key, headers: [("if-match", current)], operation: operation,
                                          accept: { (200..<300).contains($0) || $0 == 404 || $0 == 412 })
    }
}
