import Crypto
import Engine
import Foundation
import S3
import Testing
import TestSupport

/// The `s3` destination against a real S3-compatible server (moto_server, signing enforced), checked with
/// the AWS CLI as the independent client.
@Suite struct S3DestinationTests {
    /// A job `app` backing up `database` into `bucket` under `pods/<label>/`.
    static func cli(_ label: String, database: String, bucket: String, extra: String = "",
                    environment: [String: String] = [:]) async throws -> BackupCLI {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        return try await BackupCLI(label: "s3-\(label)", config: {
            server.config(database: database, directory: $0,
                          extra: "destination = s3\ns3.bucket = \(bucket)\ns3.prefix = pods/\(label)/\n\(extra)")
        }, environment: moto.environment.merging(environment) { $1 })
    }

    @Test func aBackupInTheBucketIsWhatTheAWSCLIReadsAndRestoresFromThere() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("s3_round", rows: 2000)
        let bucket = try await moto.makeBucket("round")
        let cli = try await Self.cli("round", database: "s3_round", bucket: bucket)
        defer { cli.cleanUp() }
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        let keys = try await moto.keys(bucket)
        let data = try #require(keys.first { $0.hasSuffix(".sql.gz") }, "\(keys)")
        #expect(data.hasPrefix("pods/round/app_") && keys.contains(data + ".manifest.json"), "\(keys)")
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)

        // What the AWS CLI downloads is a whole gzip file of the dump, with the SHA-256 the manifest records.
        let downloaded = try await Shell.run("/bin/bash", ["-o", "pipefail", "-c",
            "'\(moto.tools)/aws' --endpoint-url \(moto.endpoint) s3 cp s3://\(bucket)/\(data) - | tee >(sha256sum >&2) | gunzip | grep -c 'PostgreSQL database dump complete'"],
            environment: moto.environment)
        #expect(downloaded.status == 0 && downloaded.stdout.hasPrefix("1"), "\(downloaded.stdout) \(downloaded.stderr)")
        let listed = try await cli.listed()
        #expect(listed.count == 1 && (listed[0]["path"] as? String) == "s3://\(bucket)/\(data)", "\(listed)")
        let sha = try #require(listed.first?["sha256"] as? String)
        #expect(downloaded.stderr.contains(sha), "the manifest's SHA-256 is of the stored bytes")

        let restored = try await cli.run("restore", "--to-database", "s3_round_copy")
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameDump(try await server.dumpForComparison("s3_round_copy"), try await server.dumpForComparison("s3_round"))
        let verified = try await cli.run("verify")
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let byLocation = try await cli.run("restore", "--backup", "s3://\(bucket)/\(data)", "--to-database", "s3_round_url")
        #expect(byLocation.status == 0, "\(byLocation.stderr)")
        expectSameDump(try await server.dumpForComparison("s3_round_url"), try await server.dumpForComparison("s3_round"))
    }

    @Test func aWrongSecretFailsNamingTheKeysAndNeverShowingTheSecret() async throws {
        let moto = try await MotoServer.shared
        try await PostgresServer.shared.makeSampleDatabase("s3_secret", rows: 10)
        let bucket = try await moto.makeBucket("secret")
        let cli = try await Self.cli("secret", database: "s3_secret", bucket: bucket,
                                     environment: ["AWS_SECRET_ACCESS_KEY": "not-the-secret-Zq81x"])
        defer { cli.cleanUp() }
        let result = try await cli.run("now")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("SignatureDoesNotMatch") && result.stderr.contains("AWS_SECRET_ACCESS_KEY"), "\(result.stderr)")
        #expect(!result.stderr.contains("not-the-secret") && !result.stdout.contains("not-the-secret"))
        #expect(try await moto.keys(bucket).isEmpty)
    }

    /// With 5 MiB parts and at most 20 parts, parts grow so that 300 MB fits; the object is byte-exact.
    @Test func partsGrowSoALargeBackupFitsTheMaximumParts() async throws {
        let moto = try await MotoServer.shared
        let bucket = try await moto.makeBucket("parts")
        let destination = try DestinationFixture.make(S3DestinationFactory(environment: moto.environment), [
            "bucket": bucket, "part_size": "5MiB", "max_parts": "20", "max_size": "1GiB", "concurrency": "3",
        ])
        let upload = try await destination.begin(name: "big_20260101T000000Z.bin")
        var hash = SHA256()
        var generator = SplitMix(seed: 7)
        let total = 300_000_000
        var written = 0
        while written < total {
            let chunk = (0..<min(1 << 20, total - written)).map { _ in generator.nextByte() }
            hash.update(data: chunk)
            try await upload.write(chunk)
            written += chunk.count
        }
        let object = try await upload.commit(sidecars: [])
        #expect(object.bytes == Int64(total))
        let head = try await moto.aws(["s3api", "head-object", "--bucket", bucket, "--key", "big_20260101T000000Z.bin",
                                       "--query", "[ETag,ContentLength]", "--output", "text"])
        let fields = head.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        let parts = Int(fields.first?.split(separator: "-").last?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) ?? "")
        #expect(parts != nil && parts! <= 20 && parts! > 5, "ETag \(fields)")
        #expect(fields.last == "\(total)")
        let digest = Checksum.hex(hash.finalize())
        let downloaded = try await Shell.sh("'\(moto.tools)/aws' --endpoint-url \(moto.endpoint) s3 cp s3://\(bucket)/big_20260101T000000Z.bin - | sha256sum",
                                            environment: moto.environment)
        #expect(downloaded.stdout.hasPrefix(digest))
    }

    @Test func aMaximumThatCannotBeMetFailsBeforeAnythingIsUploaded() async throws {
        let moto = try await MotoServer.shared
        try await PostgresServer.shared.makeSampleDatabase("s3_plan", rows: 10)
        let bucket = try await moto.makeBucket("plan")
        let cli = try await Self.cli("plan", database: "s3_plan", bucket: bucket, extra: "s3.part_size = 5MiB\ns3.max_parts = 20")
        defer { cli.cleanUp() }
        let result = try await cli.run("now")
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("s3.max_parts") && result.stderr.contains("s3.max_size"), "\(result.stderr)")
        #expect(try await moto.keys(bucket).isEmpty)
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
    }
}

/// Reproducible bytes that do not compress, without a random number generator's cost per byte.
struct SplitMix {
    var state: UInt64
    var buffer: UInt64 = 0
    var left = 0

    init(seed: UInt64) { state = seed }

    mutating func nextByte() -> UInt8 {
        if left == 0 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            buffer = z ^ (z >> 31)
            left = 8
        }
        left -= 1
        let byte = UInt8(truncatingIfNeeded: buffer)
        buffer >>= 8
        return byte
    }
}
