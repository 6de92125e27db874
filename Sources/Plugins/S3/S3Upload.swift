import Crypto
import Engine
import Foundation
import NIOCore
import NIOHTTP1

/// A multipart upload: parts go up as they fill, a few at once, each kept in memory until the server took
/// it (so a retry resends it from memory); the object appears only on `CompleteMultipartUpload`.
final class S3Upload: Upload {
    private struct Part: Sendable {
        var number: Int
        var etag: String
        var md5: [UInt8]
    }

    private let client: S3Client
    private let name: String
    private let key: String
    private let sidecarKey: @Sendable (String) throws -> String
    private let uploadID: String
    private let plan: PartPlan
    private let concurrency: Int
    private var buffer: ByteBuffer
    private var nextPart = 1
    private var inFlight: [Task<(Part, ByteBuffer), any Error>] = []
    /// Buffers of parts the server took, emptied for the next parts: the upload allocates `concurrency`
    /// part buffers once rather than one per part, which the allocator would not always give back.
    private var spare: [ByteBuffer] = []
    private var done: [Part] = []
    private var bytes: Int64 = 0
    private var sidecarsWritten: [String] = []

    init(client: S3Client, name: String, key: String, sidecarKey: @escaping @Sendable (String) throws -> String,
         uploadID: String, plan: PartPlan, concurrency: Int) {
        self.client = client
        self.name = name
        self.key = key
        self.sidecarKey = sidecarKey
        self.uploadID = uploadID
        self.plan = plan
        self.concurrency = concurrency
        self.buffer = ByteBufferAllocator().buffer(capacity: Int(plan.size(ofPart: 1)))
    }

    func write(_ chunk: [UInt8]) async throws {
        var rest = chunk[...]
        while !rest.isEmpty {
            let target = Int(plan.size(ofPart: nextPart))
            let take = min(target - buffer.readableBytes, rest.count)
            buffer.writeBytes(rest.prefix(take))
            rest = rest.dropFirst(take)
            if buffer.readableBytes == target { try await sendPart() }
        }
    }

    /// Hands the full buffer to a task of its own; waits while the parts in flight and the one being filled
    /// would exceed `concurrency`, which bounds memory at `concurrency` parts.
    private func sendPart() async throws {
        guard nextPart <= plan.maxParts else {
            throw BackupError(.destination, "the backup is larger than s3.max_size \(SizeParser.text(plan.maxSize))"
                + " (\(plan.maxParts) parts); raise s3.max_size, s3.max_parts or s3.part_size")
        }
        let body = buffer
        buffer = ByteBuffer()
        let number = nextPart
        bytes += Int64(body.readableBytes)
        nextPart += 1
        let client = client, key = key, uploadID = uploadID
        inFlight.append(Task {
            // Hashed once: the MD5 goes in Content-MD5 and, later, into the object's expected ETag.
            let hashes = S3Client.hashes(body)
            let md5 = Array(Data(base64Encoded: hashes.md5) ?? Data())
            let response = try await client.send(
                .PUT, key: key, query: [("partNumber", "\(number)"), ("uploadId", uploadID)], body: body,
                hashes: hashes, operation: "UploadPart \(number) of \(client.location(key))")
            guard let etag = response.headers.first(name: "etag") else {
                throw BackupError(.destination,
                                  "UploadPart \(number) of \(client.location(key)): the answer has no ETag")
            }
            return (Part(number: number, etag: etag, md5: md5), body)
        })
        while inFlight.count >= concurrency { try await finishOldest() }
        // The next part's buffer only now, with at most `concurrency - 1` parts in flight: a reused buffer
        // is resident already, so taking it before the wait would hold one part more. Emptied here, once
        // nothing else holds it (emptying a shared buffer would allocate a new one).
        let capacity = Int(plan.size(ofPart: nextPart))
        buffer = spare.popLast() ?? ByteBufferAllocator().buffer(capacity: capacity)
        buffer.clear()
        buffer.reserveCapacity(capacity)
    }

    private func finishOldest() async throws {
        let task = inFlight.first!
        do {
            // A run stopped by a signal stops the part's request too, rather than wait for its retries.
            let (part, body) = try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
            inFlight.removeFirst()
            done.append(part)
            spare.append(body)
        } catch let failure as S3Failure {
            throw failure.backupError
        }
    }

    func commit(sidecars: [(name: String, bytes: [UInt8])]) async throws -> StoredObject {
        // The last part may be short; an empty backup is one empty part.
        if buffer.readableBytes > 0 || nextPart == 1 { try await sendPart() }
        while !inFlight.isEmpty { try await finishOldest() }
        // Sidecars first: a backup never appears without its manifest.
        for sidecar in sidecars {
            let sidecarKey = try sidecarKey(sidecar.name)
            let response = try await client.call(.PUT, key: sidecarKey,
                                                 headers: [("if-none-match", "*")] + client.writeHeaders,
                                                 body: ByteBuffer(bytes: sidecar.bytes),
                                                 operation: "PutObject \(client.location(sidecarKey))",
                                                 accept: { $0 == 200 || $0 == 412 })
            guard response.status == 200 else {
                throw BackupError(.destination, "\(client.location(sidecarKey)) already exists; it was not replaced")
            }
            sidecarsWritten.append(sidecarKey)
        }
        try await complete()
        releaseBuffers()
        return StoredObject(name: name, location: client.location(key), bytes: bytes)
    }

    private func complete() async throws {
        let parts = done.sorted { $0.number < $1.number }
        let xml = "<CompleteMultipartUpload>" + parts.map {
            "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(Self.escaped($0.etag))</ETag></Part>"
        }.joined() + "</CompleteMultipartUpload>"
        let operation = "CompleteMultipartUpload of \(client.location(key))"
        let response = try await client.call(.POST, key: key, query: [("uploadId", uploadID)],
                                             headers: [("if-none-match", "*")],
                                             body: ByteBuffer(string: xml), operation: operation,
                                             accept: { $0 == 200 || $0 == 412 || $0 == 404 })
        guard response.status != 200 else { return }
        // 412 or NoSuchUpload: another object is there, or this completion already succeeded and only its
        // answer was lost (a retry). S3's ETag of a multipart object tells which.
        let expected = "\"" + Checksum.hex(Insecure.MD5.hash(data: parts.flatMap(\.md5))) + "-\(parts.count)\""
        let head = try await client.call(.HEAD, key: key, operation: "HeadObject \(client.location(key))",
                                         accept: { $0 == 200 || $0 == 404 })
        guard head.status == 200, head.headers.first(name: "etag") == expected else {
            throw BackupError(.destination, "\(client.location(key)) already exists; it was not replaced")
        }
    }

    /// The part buffers are not needed once the upload ended; verify and retention run after it.
    private func releaseBuffers() {
        spare = []
        buffer = ByteBuffer()
    }

    func abort() async {
        for task in inFlight { task.cancel() }
        for task in inFlight { _ = try? await task.value }
        inFlight = []
        releaseBuffers()
        // In a task of its own: a run stopped by a signal (this task cancelled) still aborts the upload.
        let client = client, key = key, uploadID = uploadID, sidecars = sidecarsWritten
        await Task {
            _ = try? await client.send(.DELETE, key: key, query: [("uploadId", uploadID)],
                                       operation: "AbortMultipartUpload of \(client.location(key))",
                                       accept: { _ in true })
            for sidecar in sidecars {
                _ = try? await client.send(.DELETE, key: sidecar, operation: "DeleteObject \(client.location(sidecar))",
                                           accept: { _ in true })
            }
        }.value
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
