import Engine
import Foundation
import Testing
import TestSupport

/// `destination = local, s3`: one dump stored on the volume and in the bucket (moto_server, signing
/// enforced) at once, each with its own retention; a failing side named while the other copy stays; and
/// `backup copy` between the two.
@Suite struct FanOutCLITests {
    /// A job `app` backing up `database` to `local` and to `bucket` under `fan/<label>/`.
    static func cli(_ label: String, database: String, bucket: String, extra: String = "") async throws -> BackupCLI {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        return try await BackupCLI(label: "fan-\(label)", config: {
            server.config(database: database, directory: $0, extra: """
                destination = local, s3
                s3.bucket = \(bucket)
                s3.prefix = fan/\(label)/
                \(extra)
                """)
        }, environment: moto.environment)
    }

    /// The bytes of `key` in `bucket`, as the AWS CLI downloads them.
    static func download(_ bucket: String, _ key: String) async throws -> Data {
        let moto = try await MotoServer.shared
        let file = try Paths.temporaryDirectory("fan-download") + "/object"
        let copied = try await moto.aws(["s3", "cp", "s3://\(bucket)/\(key)", file])
        guard copied.status == 0 else { throw TestFailure("aws s3 cp failed: \(copied.stderr)") }
        return try Data(contentsOf: URL(fileURLWithPath: file))
    }

    @Test func oneDumpIsStoredOnTheVolumeAndInTheBucketByteForByte() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("fan_both", rows: 3000)
        let bucket = try await moto.makeBucket("fan-both")
        // A pg_dump that counts its dumps, so the test sees the database was read once.
        let wrapper = try Paths.temporaryDirectory("fan-pgdump")
        try """
            #!/bin/sh
            case "$1" in --version|-V) ;; *) echo dump >> '\(wrapper)/count' ;; esac
            exec '\(Paths.pgTool("pg_dump"))' "$@"
            """.write(toFile: "\(wrapper)/pg_dump", atomically: true, encoding: .utf8)
        chmod("\(wrapper)/pg_dump", 0o700)
        let cli = try await Self.cli("both", database: "fan_both", bucket: bucket, extra: "postgres.pg_dump = \(wrapper)/pg_dump")
        defer { cli.cleanUp() }

        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try String(contentsOfFile: "\(wrapper)/count", encoding: .utf8) == "dump\n", "pg_dump ran once")
        let files = try cli.files()
        let data = try #require(files.first { $0.hasSuffix(".sql.gz") }, "\(files)")
        // The data, its globals sidecar and its manifest, on both sides.
        #expect(files.count == 3 && files.allSatisfy { $0.hasPrefix(data) })
        #expect(try await moto.keys(bucket) == files.map { "fan/both/\($0)" })
        #expect(try await Self.download(bucket, "fan/both/\(data).globals.json")
                == (try Data(contentsOf: URL(fileURLWithPath: cli.path(data + ".globals.json")))))
        #expect(try await Self.download(bucket, "fan/both/\(data)") == (try Data(contentsOf: URL(fileURLWithPath: cli.path(data)))))
        #expect(try await Self.download(bucket, "fan/both/\(data).manifest.json")
                == (try Data(contentsOf: URL(fileURLWithPath: cli.path(data + ".manifest.json")))), "the same manifest, so the same SHA-256")

        let listed = try await cli.listed()
        #expect(listed.count == 1 && (listed[0]["destinations"] as? [String]) == ["local", "s3"], "\(listed)")
        #expect((listed[0]["path"] as? String) == cli.path(data))
        for from in ["local", "s3"] {
            let restored = try await cli.run("restore", "--from", from, "--to-database", "fan_both_\(from)")
            #expect(restored.status == 0, "\(restored.stderr)")
            expectSameDump(try await server.dumpForComparison("fan_both_\(from)"), try await server.dumpForComparison("fan_both"))
        }
        let unknown = try await cli.run("restore", "--from", "nas", "--to-database", "fan_both_nas")
        #expect(unknown.status == 1 && unknown.stderr.contains("no destination 'nas'; its destinations: local, s3"), "\(unknown.stderr)")
    }

    @Test func eachDestinationKeepsWhatItsOwnRetentionSays() async throws {
        let moto = try await MotoServer.shared
        try await PostgresServer.shared.makeSampleDatabase("fan_keep", rows: 10)
        let bucket = try await moto.makeBucket("fan-keep")
        let cli = try await Self.cli("keep", database: "fan_keep", bucket: bucket, extra: """
            retention = count
            count.keep = 4
            local.count.keep = 2
            """)
        defer { cli.cleanUp() }
        for _ in 1...5 {
            let made = try await cli.run("now")
            #expect(made.status == 0, "\(made.stderr)")
        }
        // The five backups' names, oldest first, from the bucket, which keeps four of them.
        let stored = try await moto.keys(bucket).filter { $0.hasSuffix(".sql.gz") }.map { String($0.dropFirst("fan/keep/".count)) }
        #expect(stored.count == 4, "\(stored)")
        #expect(try cli.files().filter { $0.hasSuffix(".sql.gz") } == Array(stored.suffix(2)), "the volume keeps the newest two")
        let listed = try await cli.listed()
        #expect(listed.map { $0["destinations"] as? [String] ?? [] } == [["s3"], ["s3"], ["local", "s3"], ["local", "s3"]], "\(listed)")

        let dryRun = try await cli.run("prune", "--dry-run")
        #expect(dryRun.stdout.contains("[app] at local 2 to keep, 0 to delete") && dryRun.stdout.contains("[app] at s3 4 to keep, 0 to delete"),
                "\(dryRun.stdout)")
    }

    @Test func aDestinationFailingMidStreamIsNamedAndTheOtherCopyStays() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        // About 14 MB of dump, stored uncompressed: the bucket's first 5 MiB part goes up mid-stream.
        try await server.psql("CREATE DATABASE fan_fail OWNER \(server.user)")
        try await server.psql("SET ROLE \(server.user);\nCREATE TABLE t AS SELECT g, md5(g::text) || md5((g * 7)::text) AS v FROM generate_series(1, 200000) g",
                              database: "fan_fail")
        let bucket = try await moto.makeBucket("fan-fail")
        let receiver = try await HTTPReceiver.start("ok")
        defer { receiver.stop() }
        let cli = try await Self.cli("fail", database: "fan_fail", bucket: bucket, extra: """
            notify = webhook
            webhook.url = \(receiver.url)
            compressor = none
            retention = count
            count.keep = 1
            s3.endpoint = \(proxy.endpoint)
            s3.part_size = 5MiB
            s3.retries = 2
            s3.request_timeout = 30s
            """)
        defer { cli.cleanUp() }
        try proxy.plan([["method": "PUT", "query": "partNumber", "fault": "503", "times": -1]])
        let failed = try await cli.run("now")
        #expect(failed.status == 1, "a partial backup is a failed run: \(failed.stderr)")
        #expect(failed.stderr.contains("partial backup: stored at local") && failed.stderr.contains("failed at s3:")
                && failed.stderr.contains("503"), "\(failed.stderr)")
        let first = try #require(try cli.files().first { $0.hasSuffix(".sql") })
        #expect(try await cli.listed().map { $0["destinations"] as? [String] ?? [] } == [["local"]])
        #expect(try await moto.keys(bucket).isEmpty)
        #expect(try await moto.uploadsInProgress(bucket).isEmpty, "the bucket's upload was aborted")
        // The notification says which copy exists.
        let event = try #require(try receiver.requests().first?.body)
        #expect(event["status"] as? String == "partial", "\(event)")
        let sides = try #require(event["destinations"] as? [[String: Any]])
        #expect(sides.map { $0["name"] as? String } == ["local", "s3"])
        #expect(sides.map { $0["status"] as? String } == ["success", "failure"])
        #expect(sides[0]["file"] as? String == cli.path(first) && (sides[1]["error"] as? String)?.contains("503") == true, "\(sides)")

        // The network is back: both sides get the next backup; each side's retention keeps one.
        try proxy.plan([])
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        let second = try #require(try cli.files().first { $0.hasSuffix(".sql") })
        let files = try cli.files()
        #expect(second != first && files.count == 3 && files.allSatisfy { $0.hasPrefix(second) }, "\(files)")
        #expect(try await moto.keys(bucket) == files.map { "fan/fail/\($0)" })
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
    }

    @Test func copyBetweenTheVolumeAndTheBucketIsIdempotentAndRestores() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("fan_copy", rows: 2000)
        let bucket = try await moto.makeBucket("fan-copy")
        let cli = try await Self.cli("copy", database: "fan_copy", bucket: bucket)
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        #expect(try await cli.run("now").status == 0)
        let data = try cli.files().filter { $0.hasSuffix(".sql.gz") }
        #expect(data.count == 2)
        // The bucket loses its copies; copy puts them back, once.
        #expect(try await moto.aws(["s3", "rm", "--recursive", "s3://\(bucket)/fan/copy/"]).status == 0)
        let copied = try await cli.run("copy", "--from", "local", "--to", "s3", "--backup", "all")
        #expect(copied.status == 0 && copied.stdout.contains("2 copied, 0 already at s3"), "\(copied.stdout)\(copied.stderr)")
        let again = try await cli.run("copy", "--from", "local", "--to", "s3", "--backup", "all")
        #expect(again.status == 0 && again.stdout.contains("0 copied, 2 already at s3"), "\(again.stdout)\(again.stderr)")
        #expect(try await moto.keys(bucket) == (try cli.files()).map { "fan/copy/\($0)" }, "data, sidecar and manifest of both")
        for name in data {
            #expect(try await Self.download(bucket, "fan/copy/\(name)") == (try Data(contentsOf: URL(fileURLWithPath: cli.path(name)))))
        }

        // And back: the volume loses the newest backup; copy fetches it from the bucket, and it restores.
        for file in try cli.files() where file.hasPrefix(data[1]) { try FileManager.default.removeItem(atPath: cli.path(file)) }
        let back = try await cli.run("copy", "--from", "s3", "--to", "local")
        #expect(back.status == 0 && back.stdout.contains("1 copied, 0 already at local"), "\(back.stdout)\(back.stderr)")
        #expect(try await cli.run("copy", "--from", "s3", "--to", "local").stdout.contains("0 copied, 1 already at local"))
        let restored = try await cli.run("restore", "--from", "local", "--to-database", "fan_copy_back")
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameDump(try await server.dumpForComparison("fan_copy_back"), try await server.dumpForComparison("fan_copy"))
        #expect(try await cli.run("verify", "--checksums-only", "--backup", "all", "--from", "local").status == 0)
    }

    /// A copy killed mid-upload leaves its upload open in the bucket; the next copy, holding the job's
    /// lock there, removes it, as the next backup would.
    @Test func aCopyRemovesTheUploadAKilledCopyLeft() async throws {
        let moto = try await MotoServer.shared
        try await PostgresServer.shared.makeSampleDatabase("fan_left", rows: 100)
        let bucket = try await moto.makeBucket("fan-left")
        let cli = try await Self.cli("left", database: "fan_left", bucket: bucket)
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        #expect(try await moto.aws(["s3", "rm", "--recursive", "s3://\(bucket)/fan/left/"]).status == 0)
        let data = try #require(try cli.files().first { $0.hasSuffix(".sql.gz") })
        let started = try await moto.aws(["s3api", "create-multipart-upload", "--bucket", bucket, "--key", "fan/left/\(data)"])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(try await moto.uploadsInProgress(bucket).count == 1, "what a copy killed mid-upload leaves")
        let copied = try await cli.run("copy", "--from", "local", "--to", "s3")
        #expect(copied.status == 0 && copied.stdout.contains("1 copied, 0 already at s3"), "\(copied.stdout)\(copied.stderr)")
        #expect(copied.stderr.contains("removed what an interrupted run left behind: \(data) (upload in progress)"), "\(copied.stderr)")
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
    }

    @Test func aCopyWhoseBytesDoNotMatchTheManifestPublishesNothing() async throws {
        let moto = try await MotoServer.shared
        try await PostgresServer.shared.makeSampleDatabase("fan_bad", rows: 100)
        let bucket = try await moto.makeBucket("fan-bad")
        let cli = try await Self.cli("bad", database: "fan_bad", bucket: bucket)
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        #expect(try await moto.aws(["s3", "rm", "--recursive", "s3://\(bucket)/fan/bad/"]).status == 0)
        let data = try #require(try cli.files().first { $0.hasSuffix(".sql.gz") })
        // Same size, one byte changed in the middle.
        let handle = try #require(FileHandle(forUpdatingAtPath: cli.path(data)))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        let byte = try #require(try handle.read(upToCount: 1)).first ?? 0
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: [byte ^ 0xFF])
        try handle.close()
        let copied = try await cli.run("copy", "--from", "local", "--to", "s3")
        #expect(copied.status == 1 && copied.stderr.contains("SHA-256"), "\(copied.stderr)")
        #expect(try await moto.keys(bucket).isEmpty)
        #expect(try await moto.uploadsInProgress(bucket).isEmpty)
    }
}
