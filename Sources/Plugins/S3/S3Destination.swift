import Engine
import Foundation
import NIOCore
import NIOHTTP1

/// Backups in a bucket under a prefix. Data goes up as a multipart upload that only
/// `CompleteMultipartUpload` makes visible; objects whose names start with `.` (the job's lock, write
/// probes) are the destination's own and never listed.
public struct S3Destination: LockingDestination {
    let client: S3Client
    /// `""` or a prefix ending in `/`, e.g. `backups/app/`.
    let prefix: String
    let plan: PartPlan
    let concurrency: Int
    /// Whether locks are leases taken with conditional writes (`If-None-Match`), or not taken at all.
    let locking: Bool

    /// The bucket that holds the backups.
    public var bucket: String { client.endpoint.bucket }

    func key(_ name: String) -> String { prefix + name }

    /// The key of the object `name`: one name under the prefix, never a path (`a/b`, `..`) that a store or
    /// a proxy normalising the URL could resolve outside it, whatever a caller was told by a stored file.
    static func objectKey(_ name: String, prefix: String) throws -> String {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
            throw BackupError(.corrupt, "\(name.debugDescription.prefix(120)) is not an object name"
                + " under s3 prefix '\(prefix)'; a stored file that names it is damaged or not ours")
        }
        return prefix + name
    }

    func objectKey(_ name: String) throws -> String { try Self.objectKey(name, prefix: prefix) }

    public func checkWritable() async throws {
        let probe = key(".backup-write-test-\(UUID().uuidString.prefix(8))")
        try await client.call(.PUT, key: probe, headers: client.writeHeaders, body: ByteBuffer(),
                              operation: "PutObject \(client.location(probe))")
        _ = try? await client.send(.DELETE, key: probe, operation: "DeleteObject \(client.location(probe))",
                                   accept: { _ in true })
    }

    public func begin(name: String) async throws -> any Upload {
        let key = try objectKey(name)
        let response = try await client.call(.POST, key: key, query: [("uploads", "")], headers: client.writeHeaders,
                                      operation: "CreateMultipartUpload \(client.location(key))")
        guard let uploadID = response.xml?.value("UploadId"), !uploadID.isEmpty else {
            throw BackupError(.destination, "CreateMultipartUpload \(client.location(key)): the answer has no UploadId")
        }
        let prefix = prefix
        return S3Upload(client: client, name: name, key: key,
                        sidecarKey: { try S3Destination.objectKey($0, prefix: prefix) }, uploadID: uploadID,
                        plan: plan, concurrency: concurrency)
    }

    public func list(prefix namePrefix: String) async throws -> [StoredObject] {
        let operation = "ListObjectsV2 s3://\(client.endpoint.bucket)/\(key(namePrefix))"
        var objects: [StoredObject] = []
        var bound = ListingBound(operation: operation, tokenName: "NextContinuationToken")
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", key(namePrefix))]
            if let token { query.append(("continuation-token", token)) }
            let response = try await client.call(.GET, key: nil, query: query, operation: operation)
            guard let xml = response.xml, xml.name == "ListBucketResult" else {
                throw BackupError(.destination, "\(operation): the answer is not a listing")
            }
            let contents = xml.all("Contents")
            token = try bound.next(listed: contents.compactMap { $0.value("Key") },
                                   truncated: xml.value("IsTruncated") == "true",
                                   token: xml.value("NextContinuationToken"))
            for content in contents {
                guard let key = content.value("Key"), key.hasPrefix(prefix) else { continue }
                let name = String(key.dropFirst(prefix.count))
                // Deeper "folders" belong to others sharing the prefix; dot names are ours (locks, probes).
                guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else { continue }
                objects.append(StoredObject(name: name, location: client.location(key),
                                            bytes: Int64(content.value("Size") ?? "") ?? 0))
            }
        } while token != nil
        return objects.sorted { $0.name < $1.name }
    }

    public func read(name: String) async throws -> [UInt8] {
        let key = try objectKey(name)
        return try await client.call(.GET, key: key, operation: "GetObject \(client.location(key))").body
    }

    public func replace(name: String, bytes: [UInt8]) async throws {
        let key = try objectKey(name)
        try await client.call(.PUT, key: key, headers: client.writeHeaders, body: ByteBuffer(bytes: bytes),
                       operation: "PutObject \(client.location(key))")
    }

    public func delete(name: String) async throws {
        let key = try objectKey(name)
        try await client.call(.DELETE, key: key, operation: "DeleteObject \(client.location(key))",
                       accept: { (200..<300).contains($0) || $0 == 404 })
    }

    /// Streams with ranged GETs: a connection that breaks resumes at the byte where it stopped, from the
    /// same object (`If-Match` its ETag), up to the retry limit without progress.
    public func stream(name: String, chunkSize: Int, into sink: ([UInt8]) async throws -> Void) async throws {
        let key = try objectKey(name)
        let operation = "GetObject \(client.location(key))"
        var offset: Int64 = 0
        var etag: String?
        var pending: [UInt8] = []
        var failures = 0
        while true {
            do {
                let response = try await client.open(key: key, from: offset, ifMatch: etag, operation: operation)
                etag = etag ?? response.headers.first(name: "etag")
                var body = response.body.makeAsyncIterator()
                while true {
                    let next = try await client.transport("\(operation) (the connection broke at byte \(offset))") {
                        try await body.next()
                    }
                    guard let next else { break }
                    failures = 0
                    offset += Int64(next.readableBytes)
                    pending += next.readableBytesView
                    while pending.count >= chunkSize {
                        try await sink(Array(pending[..<chunkSize]))
                        pending.removeFirst(chunkSize)
                    }
                }
                if !pending.isEmpty { try await sink(pending) }
                return
            } catch let failure as S3Failure {
                failures += 1
                guard failure.isTransient, failures < client.retry.attempts else { throw failure.backupError }
                try await Task.sleep(for: client.retry.delay(after: failures))
            }
        }
    }
}
