import Engine
import Foundation
import NIOCore

/// Locks across pods as leases: an object `<prefix>.<job>.lock` created only if absent (`If-None-Match: *`),
/// renewed and released only while it is still the one this holder wrote (`If-Match` its ETag), and taken
/// over once its lease has run out. The lease's end is written by the holder's clock and read by the next
/// run's, so pods need clocks within a few seconds of each other (NTP), as Kubernetes nodes have.
extension S3Destination {
    struct Lease: Codable {
        var holder: String
        var expires: Double
    }

    /// The key of `job`'s lease object.
    public func lockKey(_ job: String) -> String { key(".\(job).lock") }

    public func lock(job: String, wait: Bool,
                     lease: Duration) async throws -> (lock: any JobLock, tookOverFrom: String?) {
        guard locking else { return (S3NoLock(), nil) }
        let key = lockKey(job)
        let me = "\(ProcessInfo.processInfo.hostName) pid \(getpid()) \(UUID().uuidString.prefix(8))"
        func mine() -> Lease { Lease(holder: me, expires: Date().timeIntervalSince1970 + lease.inSeconds) }
        // The holder this run tried to take the lock over from, until the next read tells how that went.
        var takingOverFrom: String?
        var changes = 0
        func acquired(_ etag: String) -> S3JobLock {
            S3JobLock(destination: self, key: key, holder: me, lease: lease, etag: etag)
        }
        while true {
            if let etag = try await write(mine(), to: key, condition: ("if-none-match", "*")) {
                return (acquired(etag), nil)
            }
            let found = try await readLease(key)
            // A write of this run that reached the store with its answer lost (the retry then failed its
            // condition): the lease is this run's, not another's.
            if let found, let own = found.lease, own.holder == me, let etag = found.etag {
                // Unless most of its lease is left (the lost answer may have come after a long stall), it is
                // renewed first: another run may take a lapsed lease over.
                if own.expires > Date().timeIntervalSince1970 + lease.inSeconds * 2 / 3 {
                    return (acquired(etag), takingOverFrom)
                }
                if let renewed = try await write(mine(), to: key, condition: ("if-match", etag)) {
                    return (acquired(renewed), takingOverFrom)
                }
                changes += 1
                try checkChanges(changes, key)
                continue
            }
            takingOverFrom = nil
            guard let found else {
                // Released meanwhile: another try, a bounded number of times in a row.
                changes += 1
                try checkChanges(changes, key)
                continue
            }
            let held = found.lease
            let holder = held?.holder ?? "an unreadable lock"
            if (held?.expires ?? 0) < Date().timeIntervalSince1970, let etag = found.etag {
                takingOverFrom = holder
                if let taken = try await write(mine(), to: key, condition: ("if-match", etag)) {
                    return (acquired(taken), holder)
                }
                // Another run took it over first, or this write's answer was lost: the next read tells.
                changes += 1
                try checkChanges(changes, key)
                continue
            }
            guard wait else {
                let until = Date(timeIntervalSince1970: held?.expires ?? 0).formatted(.iso8601)
                throw BackupError(.targetBusy, "job \(job) is already running"
                    + " (\(holder) holds \(client.location(key)), lease until \(until)); pass --wait to wait for it")
            }
            changes = 0
            try await Task.sleep(for: .seconds(2))
        }
    }

    /// Fails once the lock changed between a write and a read `changes` times in a row: a store, or other
    /// runs, that never let the lock be either taken or seen held.
    private func checkChanges(_ changes: Int, _ key: String) throws {
        guard changes >= 10 else { return }
        throw BackupError(.targetBusy, "the lock \(client.location(key)) changed between writing and reading it"
            + " \(changes) times in a row (gone, or taken by another run, each time);"
            + " runs of this job may be starting and stopping in a loop")
    }

    /// The lease stored at `key` (nil inside when unreadable) and its ETag; nil when there is none.
    /// The lease's holder and when it ends (or ended: the next run takes a lapsed lease over).
    public func lockHolder(job: String) async throws -> String? {
        guard locking, let found = try await readLease(lockKey(job)) else { return nil }
        guard let lease = found.lease else { return "an unreadable lock at \(client.location(lockKey(job)))" }
        let until = Date(timeIntervalSince1970: lease.expires)
        let state = until < Date() ? "lapsed at" : "until"
        return "\(lease.holder) (lease \(state) \(until.formatted(.iso8601)))"
    }

    func readLease(_ key: String) async throws -> (lease: Lease?, etag: String?)? {
        let found = try await client.call(.GET, key: key, operation: "GetObject \(client.location(key))",
                                          accept: { $0 == 200 || $0 == 404 })
        guard found.status == 200 else { return nil }
        return (try? JSONDecoder().decode(Lease.self, from: Data(found.body)), found.headers.first(name: "etag"))
    }

    /// Writes `lease` to `key` if `condition` holds; its new ETag, or nil when the condition failed.
    func write(_ lease: Lease, to key: String, condition: (String, String)) async throws -> String? {
        let body = ByteBuffer(bytes: try JSONEncoder().encode(lease))
        let response = try await client.call(.PUT, key: key, headers: [condition], body: body,
                                             operation: "PutObject \(client.location(key))",
                                             accept: { $0 == 200 || $0 == 412 || $0 == 404 || $0 == 409 || $0 == 501 })
        if response.status == 501 {
            throw BackupError(.destination, "this S3 store does not support conditional writes (\(condition.0)),"
                + " which locks across pods need; set s3.lock = none and run one pod per job at a time")
        }
        guard response.status == 200 else { return nil }
        return response.headers.first(name: "etag")
    }

    public func removeLeftovers(job: String) async throws -> [String] {
        let operation = "ListMultipartUploads s3://\(client.endpoint.bucket)/\(key(job + "_"))"
        var removed: [String] = []
        var bound = ListingBound(operation: operation, tokenName: "NextKeyMarker and NextUploadIdMarker")
        var markers: (key: String, upload: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", key(job + "_"))]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.upload)] }
            let response = try await client.call(.GET, key: nil, query: query, operation: operation)
            guard let xml = response.xml else { break }
            let uploads = xml.all("Upload")
            // One token of both markers; an upload is its key and id (one key may have several uploads).
            let next = xml.value("NextKeyMarker").map { $0 + " / " + (xml.value("NextUploadIdMarker") ?? "") }
            let token = try bound.next(listed: uploads.map { "\($0.value("Key") ?? "") \($0.value("UploadId") ?? "")" },
                                       truncated: xml.value("IsTruncated") == "true", token: next)
            markers = token.map { _ in (xml.value("NextKeyMarker") ?? "", xml.value("NextUploadIdMarker") ?? "") }
            for upload in uploads {
                guard let key = upload.value("Key"), let id = upload.value("UploadId"), key.hasPrefix(prefix) else {
                    continue
                }
                let name = String(key.dropFirst(prefix.count))
                // Exactly this job's: job `x` never takes job `x_20260101T000000Z`'s upload for its own.
                guard JobName.backup(owning: name, job: job) != nil else { continue }
                // Without locks another pod may be uploading now; only a day-old upload is surely left over.
                if !locking {
                    let started = upload.date("Initiated") ?? Date()
                    guard started.timeIntervalSinceNow < -86_400 else { continue }
                }
                try await client.call(.DELETE, key: key, query: [("uploadId", id)],
                                      operation: "AbortMultipartUpload \(client.location(key))",
                                      accept: { (200..<300).contains($0) || $0 == 404 })
                removed.append(name + " (upload in progress)")
            }
        } while markers != nil
        return removed
    }
}
