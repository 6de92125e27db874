import Foundation
import Testing
import TestSupport

/// `backup status` reads the stores alone (a volume and a bucket in moto_server, signing enforced): a
/// verified job at both, an overdue one, one whose newest verification failed, one never backed up and one
/// whose bucket does not exist, each named with its state; exit 1 while any is not ok, 0 for a healthy job.
@Suite struct StatusCommandTests {
    @Test func statusNamesEachJobsStateAtEachDestination() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("status_cmd", rows: 40)
        let bucket = try await moto.makeBucket("status-cmd")
        let cli = try await BackupCLI(label: "status-cmd", config: { directory in
            """
            postgres.host = 127.0.0.1
            postgres.port = \(server.port)
            postgres.user = \(server.user)
            postgres.password = ${TEST_PGPASSWORD}
            postgres.database = status_cmd
            local.path = \(directory)
            s3.bucket = \(bucket)
            [fresh]
            destination = local, s3
            verify = after-backup
            [stale]
            interval = 2s
            status.grace = 1s
            [refuted]
            verify = after-backup
            [empty]
            [lost]
            destination = s3
            s3.bucket = \(bucket)-missing
            """
        }, environment: moto.environment)
        defer { cli.cleanUp() }
        for job in ["fresh", "stale", "refuted"] {
            let made = try await cli.run("now", "--job", job)
            try #require(made.status == 0, "\(job): \(made.stderr)")
        }
        // What a verification that failed records in the manifest.
        let manifest = try #require(try cli.files().first { $0.hasPrefix("refuted_") && $0.hasSuffix(".manifest.json") })
        var fields = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cli.path(manifest)))) as? [String: Any])
        #expect(fields["verification"] as? String == "passed")
        fields["verification"] = "failed: public.customers restored 39 rows, expected 40"
        try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: cli.path(manifest)))
        // The stale job's backup is older than its schedule allows: the run 2 s after it, plus 1 s.
        try await Task.sleep(for: .seconds(4))

        let status = try await cli.run("status", "--json")
        #expect(status.status == 1, "\(status.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
        var states: [String: String] = [:]
        for entry in entries {
            states["\(entry["job"] ?? "?") \(entry["destination"] ?? "?")"] = entry["state"] as? String
        }
        #expect(states == ["fresh local": "ok", "fresh s3": "ok", "stale local": "overdue",
                           "refuted local": "verification-failed", "empty local": "no-backup", "lost s3": "unreadable"],
                "\(status.stdout)")
        let fresh = try #require(entries.first { $0["job"] as? String == "fresh" && $0["destination"] as? String == "s3" })
        let newest = try #require(fresh["newest"] as? [String: Any])
        #expect((newest["stored_bytes"] as? Int ?? 0) > 0 && (newest["raw_bytes"] as? Int ?? 0) > 0)
        #expect((newest["age_seconds"] as? Int ?? -1) >= 0)
        #expect((fresh["verification"] as? [String: Any])?["result"] as? String == "passed")
        #expect((fresh["verification"] as? [String: Any])?["verified_at"] is String, "\(fresh)")
        #expect((fresh["runs"] as? [String: Any])?["failures_since_success"] as? Int == 0, "\(fresh)")
        #expect((fresh["runs"] as? [String: Any])?["last_success"] is String, "\(fresh)")
        #expect(fresh["next_run"] is String && fresh["due_by"] is String)
        #expect(status.stderr.contains("4 of 6 not ok"), "\(status.stderr)")

        // The table says the same, and the failed verification's reason.
        let table = try await cli.run("status")
        #expect(table.status == 1)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("JOB") == true && lines.count >= 7, "\(table.stdout)")
        #expect(lines.contains { $0.hasPrefix("fresh") && $0.contains(" s3 ") && $0.contains("passed") && $0.hasSuffix("ok") })
        #expect(lines.contains { $0.hasPrefix("stale") && $0.contains("never") && $0.hasSuffix("OVERDUE") })
        #expect(lines.contains { $0.hasPrefix("refuted") && $0.contains("FAILED") && $0.hasSuffix("VERIFICATION-FAILED") })
        #expect(lines.contains { $0.hasPrefix("empty") && $0.hasSuffix("NO-BACKUP") })
        #expect(lines.contains { $0.hasPrefix("lost at s3:") && $0.contains("NoSuchBucket") }, "\(table.stdout)")
        #expect(lines.contains { $0.contains("restored 39 rows, expected 40") })

        // A healthy job alone: exit 0.
        let healthy = try await cli.run("status", "--job", "fresh")
        #expect(healthy.status == 0, "\(healthy.stdout) \(healthy.stderr)")
    }

    /// `backup verify` writes what it found into the manifest it read (result and time), so `backup status`
    /// and the daemon see a verification made by a CronJob: passed, then, with row counts that no longer
    /// match, failed; a restore that could not run records nothing.
    @Test func verifyRecordsItsOutcomeForStatus() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("status_verify", rows: 30)
        let cli = try await BackupCLI(label: "status-verify") { server.config(database: "status_verify", directory: $0) }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        #expect(try cli.manifest(of: file).verification == nil)
        let before = try await cli.run("status", "--json")
        #expect(before.status == 0 && !before.stdout.contains("\"verification\""), "\(before.stdout)")

        let verified = try await cli.run("verify")
        #expect(verified.status == 0, "\(verified.stderr)")
        let manifest = try cli.manifest(of: file)
        #expect(manifest.verification == "passed")
        #expect(manifest.verifiedAt.map { abs($0.timeIntervalSinceNow) < 300 } == true)
        let after = try await cli.run("status")
        #expect(after.status == 0 && after.stdout.contains("passed "), "\(after.stdout)")

        // The dump no longer matches what the manifest says it holds: the verification fails, and says so.
        let path = cli.path(file + ".manifest.json")
        var fields = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var counts = try #require(fields["row_counts"] as? [String: Any])
        counts["public.customers"] = 31
        fields["row_counts"] = counts
        try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: path))
        let refuted = try await cli.run("verify")
        #expect(refuted.status == 1)
        #expect(try cli.manifest(of: file).verification?.hasPrefix("failed: ") == true)
        let failed = try await cli.run("status")
        #expect(failed.status == 1 && failed.stdout.contains("VERIFICATION-FAILED"), "\(failed.stdout)")

        // Runs that fail (the server gone) are counted at the destination, where a CronJob's status finds
        // them, with the last error; the next run that stores a backup sets the count back to 0.
        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        let closed = try FreePort.closed()
        try config.replacingOccurrences(of: "postgres.port = \(server.port)", with: "postgres.port = \(closed)")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        #expect(try await cli.run("now").status == 1)
        #expect(try await cli.run("now").status == 1)
        let down = try await cli.run("status", "--json")
        let entry = try #require((try JSONSerialization.jsonObject(with: Data(down.stdout.utf8)) as? [[String: Any]])?.first)
        let runs = try #require(entry["runs"] as? [String: Any], "\(down.stdout)")
        #expect(runs["failures_since_success"] as? Int == 2 && runs["last_failure"] is String, "\(runs)")
        #expect((runs["last_error"] as? String)?.contains("connection refused") == true, "\(runs)")
        let table = try await cli.run("status")
        #expect(table.stdout.contains("2 (last ") && table.stdout.contains("the last run failed: "), "\(table.stdout)")
        try config.write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(1))
        #expect(try await cli.run("now").status == 0)
        let back = try await cli.run("status", "--json")
        #expect(back.stdout.contains("\"failures_since_success\" : 0"), "\(back.stdout)")
    }

    /// A backup under way (pg_dump waiting on a table the test holds): `backup status` names the holder of
    /// the job's lock, read without taking it (the run goes on and succeeds), and nobody once it ended.
    @Test(.timeLimit(.minutes(10))) func aRunInProgressIsNamedWithoutDisturbingIt() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("status_lock", rows: 10)
        let cli = try await BackupCLI(label: "status-lock") { server.config(database: "status_lock", directory: $0) }
        defer { cli.cleanUp() }
        let holder = try await TableHold.start(server, database: "status_lock", pidFile: "\(cli.directory)/holder.pid")
        defer { holder.end() }
        let run = try await Background.backup(cli, "now")
        defer { run.end() }
        try await waitUntil("the backup holding the job's lock") {
            (try? String(contentsOfFile: cli.path(".app.lock"), encoding: .utf8))?.hasPrefix("pid ") == true
        }
        let during = try await cli.run("status", "--json")
        let entry = try #require((try JSONSerialization.jsonObject(with: Data(during.stdout.utf8)) as? [[String: Any]])?.first)
        let named = try #require(entry["lock_holder"] as? String, "\(during.stdout)")
        #expect(named.hasPrefix("pid \(run.pid) "), "\(named)")
        let table = try await cli.run("status")
        #expect(table.stdout.contains("app at local: a run holds the lock: pid \(run.pid)"), "\(table.stdout)")

        try await holder.release()
        let finished = try await run.result()
        #expect(finished.status == 0, "the run went on: \(finished.stderr)")
        let after = try await cli.run("status", "--json")
        #expect(after.status == 0 && !after.stdout.contains("lock_holder"), "\(after.stdout)")
    }
}
