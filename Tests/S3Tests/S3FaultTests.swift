import Crypto
import Engine
import Foundation
import S3
import Testing
import TestSupport

/// A flaky network between us and the bucket, made by a fault-injecting proxy in front of moto_server:
/// transient faults are survived with identical results; persistent ones fail clearly, within the
/// configured bounds, leaving nothing published and no upload open.
@Suite struct S3FaultTests {
    /// An `s3` destination that talks to the bucket through `proxy`.
    static func destination(_ proxy: FaultProxy, bucket: String, extra: [String: String] = [:]) async throws -> any Destination {
        let moto = try await MotoServer.shared
        var environment = moto.environment
        environment["AWS_ENDPOINT_URL"] = proxy.endpoint
        return try DestinationFixture.make(S3DestinationFactory(environment: environment), [
            // A generous idle timeout: a loaded machine may keep moto silent for seconds; the stall test sets its own.
            "bucket": bucket, "part_size": "5MiB", "concurrency": "2", "request_timeout": "30s",
        ].merging(extra) { $1 })
    }

    /// A fault proxy in front of moto_server, a new bucket labelled `label`, and a destination through the
    /// proxy; the caller stops the proxy.
    static func throughProxy(_ label: String, extra: [String: String] = [:]) async throws
        -> (moto: MotoServer, proxy: FaultProxy, bucket: String, destination: any Destination)
    {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        do {
            let bucket = try await moto.makeBucket(label)
            return (moto, proxy, bucket, try await destination(proxy, bucket: bucket, extra: extra))
        } catch {
            proxy.stop()
            throw error
        }
    }

    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix(seed: seed)
        return (0..<count).map { _ in generator.nextByte() }
    }

    @Test func transientFaultsAreRetriedAndTheObjectIsExact() async throws {
        let (moto, proxy, bucket, destination) = try await Self.throughProxy("flaky")
        defer { proxy.stop() }
        try proxy.plan([
            ["method": "PUT", "query": "partNumber=1", "fault": "503", "times": 2],
            ["method": "PUT", "query": "partNumber=2", "fault": "reset-request", "after_bytes": 1_000_000, "times": 1],
            ["method": "PUT", "query": "partNumber=3", "fault": "500", "times": 1],
            ["method": "POST", "query": "uploadId", "fault": "503", "times": 1],
            ["method": "GET", "query": "list-type", "fault": "500", "times": 1],
            ["method": "GET", "path": "flaky_20260101T000000Z.bin", "fault": "reset-response", "after_bytes": 3_000_000, "times": 1],
        ])
        let payload = Self.bytes(12_000_000, seed: 3)
        let upload = try await destination.begin(name: "flaky_20260101T000000Z.bin")
        for start in stride(from: 0, to: payload.count, by: 1 << 20) {
            try await upload.write(Array(payload[start..<min(start + (1 << 20), payload.count)]))
        }
        _ = try await upload.commit(sidecars: [("flaky_20260101T000000Z.bin.manifest.json", Array("{}".utf8))])
        #expect(try await destination.list().map(\.name) == ["flaky_20260101T000000Z.bin", "flaky_20260101T000000Z.bin.manifest.json"])
        var read: [UInt8] = []
        try await destination.stream(name: "flaky_20260101T000000Z.bin", chunkSize: 1 << 20) { read += $0 }
        #expect(read == payload, "the download resumed at the byte where the connection broke")
        let log = proxy.log
        for fault in ["503", "reset-request", "500", "reset-response"] {
            #expect(log.contains(" \(fault)\n"), "the proxy applied \(fault): \(log)")
        }
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
    }

    @Test func aPersistentErrorFailsNamingTheOperationAndLeavesNothing() async throws {
        let (moto, proxy, bucket, destination) = try await Self.throughProxy("down", extra: ["retries": "3"])
        defer { proxy.stop() }
        try proxy.plan([["method": "PUT", "query": "partNumber", "fault": "503", "times": -1]])
        let upload = try await destination.begin(name: "down_20260101T000000Z.bin")
        await #expect {
            try await upload.write(Self.bytes(6_000_000, seed: 4))
            _ = try await upload.commit(sidecars: [])
        } throws: { error in
            let text = "\(error)"
            return (error as? BackupError)?.code == .destination && text.contains("UploadPart 1")
                && text.contains("HTTP 503 SlowDown") && !text.contains(moto.secretAccessKey)
        }
        await upload.abort()
        #expect(proxy.log.components(separatedBy: "partNumber=1").count - 1 == 4, "1 try and 3 retries: \(proxy.log)")
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
        #expect(try await moto.keys(bucket).isEmpty)
    }

    /// A server that accepts a request and never answers: the request times out, is retried, and the
    /// backup fails rather than hang.
    @Test func aStalledServerTimesOutAndFails() async throws {
        let (moto, proxy, bucket, destination) = try await Self.throughProxy("stall", extra: ["retries": "1", "request_timeout": "8s"])
        defer { proxy.stop() }
        try proxy.plan([["method": "PUT", "query": "partNumber", "fault": "stall", "times": -1]])
        let upload = try await destination.begin(name: "stall_20260101T000000Z.bin")
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            try await upload.write(Self.bytes(6_000_000, seed: 5))
            _ = try await upload.commit(sidecars: [])
        } throws: { "\($0)".contains("UploadPart 1") && "\($0)".contains("nothing sent or received for 8 s (s3.request_timeout)") }
        // Two tries of 8 s each and a short wait; the bound only tells a timeout from a hang (300 s).
        #expect(clock.now - start < .seconds(120))
        await upload.abort()
        let stalled = proxy.log.split(separator: "\n").filter { $0.contains("partNumber=1&") && $0.hasSuffix(" stall") }
        #expect(stalled.count == 2, "one try and one retry: \(proxy.log)")
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
        #expect(try await moto.keys(bucket).isEmpty)
    }

    /// A 5 MiB part through a 100 KB/s link with a 10 s request timeout: the bytes keep moving, so the part
    /// goes up once (about 52 s) and is never cut off and sent again (s3.request_timeout is an idle timeout).
    @Test func aSlowUploadThatKeepsMovingIsNotCutOff() async throws {
        let (moto, proxy, bucket, destination) = try await Self.throughProxy("slow", extra: ["retries": "1", "request_timeout": "10s"])
        defer { proxy.stop() }
        try proxy.plan([["method": "PUT", "query": "partNumber", "fault": "throttle", "rate": 100_000, "times": -1]])
        let payload = Self.bytes(5 << 20, seed: 6)
        let upload = try await destination.begin(name: "slow_20260101T000000Z.bin")
        try await upload.write(payload)
        _ = try await upload.commit(sidecars: [])
        let parts = proxy.log.split(separator: "\n").filter { $0.contains("partNumber=") }
        #expect(parts.count == 1 && parts[0].hasSuffix(" throttle"), "one part (5 MiB is the minimum), sent once: \(proxy.log)")
        let stored = try await moto.aws(["s3api", "head-object", "--bucket", bucket, "--key", "slow_20260101T000000Z.bin",
                                         "--query", "ContentLength", "--output", "text"])
        #expect(stored.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(5 << 20)", "\(stored.stdout)\(stored.stderr)")
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
    }

    /// A download whose reader is slower than the link (a restore's psql busy for longer than the request
    /// timeout between chunks) is not idleness of the link: one GET, never timed out and resumed.
    @Test func aSlowReaderIsNotAnIdleLink() async throws {
        let (_, proxy, bucket, destination) = try await Self.throughProxy("slowreader", extra: ["retries": "3", "request_timeout": "10s"])
        defer { proxy.stop() }
        let payload = Self.bytes(24 << 20, seed: 9)
        let upload = try await destination.begin(name: "slowreader_20260101T000000Z.bin")
        try await upload.write(payload)
        _ = try await upload.commit(sidecars: [])
        var received: [UInt8] = []
        var pauses = 0
        try await destination.stream(name: "slowreader_20260101T000000Z.bin", chunkSize: 4 << 20) { chunk in
            received += chunk
            // Two pauses longer than the timeout, while the client's buffers are full and it reads no more.
            if pauses < 2 { pauses += 1; try await Task.sleep(for: .seconds(12)) }
        }
        #expect(received == payload)
        let gets = proxy.log.split(separator: "\n").filter { $0.hasPrefix("GET /\(bucket)/slowreader") }
        #expect(gets.count == 1, "one GET, not timed out and resumed (a resume asks for a range): \(proxy.log)")
    }

    /// The same link stopping mid-part (the server takes 1 MB of it, then nothing more): after
    /// s3.request_timeout of silence the request fails, is retried once, and the upload fails rather than hang.
    @Test func anUploadThatStopsMovingTimesOut() async throws {
        let (moto, proxy, bucket, destination) = try await Self.throughProxy("stop", extra: ["retries": "1", "request_timeout": "8s"])
        defer { proxy.stop() }
        try proxy.plan([["method": "PUT", "query": "partNumber", "fault": "stall", "after_bytes": 1_000_000, "times": -1]])
        let upload = try await destination.begin(name: "stop_20260101T000000Z.bin")
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            try await upload.write(Self.bytes(5 << 20, seed: 7))
            _ = try await upload.commit(sidecars: [])
        } throws: { "\($0)".contains("UploadPart 1") && "\($0)".contains("nothing sent or received for 8 s (s3.request_timeout)") }
        // Two tries of 8 s each and a short wait; the bound only tells a timeout from a hang (300 s).
        #expect(clock.now - start < .seconds(120))
        await upload.abort()
        let stalled = proxy.log.split(separator: "\n").filter { $0.contains("partNumber=1&") && $0.hasSuffix(" stall") }
        #expect(stalled.count == 2, "one try and one retry: \(proxy.log)")
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
    }

    /// Through the real command: faults on the way up and down, and the restored database is the same.
    @Test func aBackupAndARestoreThroughAFlakyNetworkGiveTheSameDatabase() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        try await server.makeSampleDatabase("s3_flaky", rows: 3000)
        let bucket = try await moto.makeBucket("flakycli")
        let cli = try await S3DestinationTests.cli("flakycli", database: "s3_flaky", bucket: bucket,
                                        environment: ["AWS_ENDPOINT_URL": proxy.endpoint])
        defer { cli.cleanUp() }
        try proxy.plan([
            ["method": "POST", "query": "uploads", "fault": "503", "times": 1],
            ["method": "PUT", "query": "partNumber", "fault": "reset-request", "after_bytes": 10_000, "times": 1],
            ["method": "PUT", "fault": "500", "times": 1],
            ["method": "GET", "query": "list-type", "fault": "503", "times": 2],
            ["method": "GET", "path": ".sql.gz", "fault": "reset-response", "after_bytes": 20_000, "times": 2],
        ])
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        let restored = try await cli.run("restore", "--to-database", "s3_flaky_copy")
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameDump(try await server.dumpForComparison("s3_flaky_copy"), try await server.dumpForComparison("s3_flaky"))
        #expect(proxy.log.contains(" reset-response\n") && proxy.log.contains(" reset-request\n"), "\(proxy.log)")
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
    }
    /// Through the real command: a store that keeps failing uploads fails the backup with the operation
    /// and S3's code, within the retries; the backup made before stays listed and whole.
    @Test func aPersistentFailureFailsTheBackupAndKeepsTheEarlierOne() async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        try await PostgresServer.shared.makeSampleDatabase("s3_down", rows: 200)
        let bucket = try await moto.makeBucket("downcli")
        let cli = try await S3DestinationTests.cli("downcli", database: "s3_down", bucket: bucket, extra: "s3.retries = 2",
                                        environment: ["AWS_ENDPOINT_URL": proxy.endpoint])
        defer { cli.cleanUp() }
        let first = try await cli.run("now")
        #expect(first.status == 0, "\(first.stderr)")
        let before = try await moto.keys(bucket)
        try proxy.plan([["method": "PUT", "query": "partNumber", "fault": "503", "times": -1]])
        let failed = try await cli.run("now")
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("UploadPart 1") && failed.stderr.contains("HTTP 503 SlowDown"), "\(failed.stderr)")
        #expect(!failed.stderr.contains(moto.secretAccessKey))
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
        #expect(try await moto.keys(bucket) == before, "nothing new, nothing removed")
        try proxy.plan([])
        #expect(try await cli.run("verify").status == 0, "the earlier backup is whole")
    }
}
