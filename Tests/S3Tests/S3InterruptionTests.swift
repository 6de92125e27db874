import Foundation
import Testing
import TestSupport

/// Signals mid-upload to the bucket: nothing partial is ever listed, no multipart upload stays open after
/// the next run, and a killed pod's lease is taken over once it ran out.
@Suite struct S3InterruptionTests {
    /// A job whose dump writes 50 kB of a real dump, then 8 MB of SQL comments (more than one 5 MiB part,
    /// so a part is uploaded), then hangs until killed (``FakePgDump/hang``: the test ends it by its pid).
    static func hangingJob(_ label: String) async throws -> (cli: BackupCLI, bucket: String, configPath: String, original: String) {
        let moto = try await MotoServer.shared
        try await PostgresServer.shared.makeSampleDatabase("s3_\(label)", rows: 50)
        let bucket = try await moto.makeBucket(label)
        let cli = try await S3DestinationTests.cli(label, database: "s3_\(label)", bucket: bucket,
                                        extra: "compressor = none\ns3.part_size = 5MiB\nlock.lease = 15s")
        let good = try await cli.run("now")
        #expect(good.status == 0, "\(good.stderr)")
        let wrapper = try FakePgDump.write(in: cli.directory, body: """
            /usr/bin/pg_dump "$@" | head -c 50000
            yes -- '-- filler line of a dump that is still being written' | head -c 8000000
            \(FakePgDump.hang)
            """)
        let original = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        try (original + "\npostgres.pg_dump = \(wrapper)\n").write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        return (cli, bucket, cli.configPath, original)
    }

    /// Starts `backup now`, waits until its multipart upload has a part in the bucket, sends `signal`.
    static func interrupt(_ cli: BackupCLI, bucket: String, signal: String) async throws -> Shell.Result {
        let moto = try await MotoServer.shared
        defer { FakePgDump.endStandIn(in: cli.directory) }
        return try await Shell.run("/bin/bash", ["-c", """
            '\(Paths.backup)' now --config '\(cli.configPath)' & pid=$!
            for i in $(seq 1 240); do
                kill -0 $pid 2>/dev/null || break
                parts=$('\(moto.tools)/aws' --endpoint-url \(moto.endpoint) s3api list-multipart-uploads --bucket \(bucket) --query 'Uploads[0].[Key,UploadId]' --output text 2>/dev/null)
                if [ -n "$parts" ] && [ "$parts" != "None" ]; then
                    set -- $parts
                    n=$('\(moto.tools)/aws' --endpoint-url \(moto.endpoint) s3api list-parts --bucket \(bucket) --key "$1" --upload-id "$2" --query 'length(Parts)' --output text 2>/dev/null)
                    [ "$n" = "1" ] && { echo "part=1"; break; }
                fi
                sleep 0.5
            done
            kill -\(signal) $pid; wait $pid; echo "status=$?"
            """], environment: cli.environment.merging(moto.environment) { $1 })
    }

    @Test func sigtermAbortsTheUploadAndReleasesTheLock() async throws {
        let moto = try await MotoServer.shared
        let job = try await Self.hangingJob("term")
        defer { job.cli.cleanUp() }
        let before = try await moto.keys(job.bucket)
        let result = try await Self.interrupt(job.cli, bucket: job.bucket, signal: "TERM")
        #expect(result.stdout.contains("part=1") && result.stdout.contains("status=143"), "\(result.stdout) \(result.stderr)")
        #expect(try await moto.uploadsInProgress(job.bucket).isEmpty, "the multipart upload was aborted")
        let after = try await moto.keys(job.bucket)
        #expect(after == before, "nothing new, and the lock was released: \(after) \(result.stderr)")
    }

    @Test func sigkillThenACleanRunAbortsTheLeftoverAndTakesTheLeaseOver() async throws {
        let moto = try await MotoServer.shared
        let job = try await Self.hangingJob("kill")
        defer { job.cli.cleanUp() }
        let result = try await Self.interrupt(job.cli, bucket: job.bucket, signal: "KILL")
        #expect(result.stdout.contains("part=1") && result.stdout.contains("status=137"), "\(result.stdout) \(result.stderr)")
        #expect(try await moto.uploadsInProgress(job.bucket).count == 1, "SIGKILL leaves the upload open")
        #expect(try await moto.keys(job.bucket).contains("pods/kill/.app.lock"), "and its lease")
        let listed = try await job.cli.listed()
        #expect(listed.count == 1, "nothing partial is listed: \(listed)")

        try job.original.write(toFile: job.configPath, atomically: true, encoding: .utf8)
        // The lease (15 s) runs out while the next run waits for it.
        let next = try await job.cli.run("now", "--wait")
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("took over the job's lock from"), "\(next.stderr)")
        #expect(next.stderr.contains("removed what an interrupted run left behind: app_") && next.stderr.contains("upload in progress"),
                "\(next.stderr)")
        #expect(try await moto.uploadsInProgress(job.bucket).isEmpty)
        #expect(try await job.cli.listed().count == 2)
        #expect(!(try await moto.keys(job.bucket).contains("pods/kill/.app.lock")), "the lock was released")
    }
}
