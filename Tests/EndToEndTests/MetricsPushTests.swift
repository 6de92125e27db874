import Foundation
import Testing
import TestSupport

/// `backup now`, as a CronJob runs it, reports to a real Prometheus Pushgateway (one group per job, each push
/// replacing that job's last) and to a node-exporter textfile: the same gauges `backup run` serves, with the
/// newest stored backup's time still there after a failed run.
@Suite struct MetricsPushTests {
    @Test(.timeLimit(.minutes(10))) func backupNowPushesEachJobsMetrics() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("push_db", rows: 20)
        let gateway = try await Pushgateway.start()
        defer { gateway.end() }
        let closed = try FreePort.closed()
        let textfile = try Paths.temporaryDirectory("push-textfile")
        defer { try? FileManager.default.removeItem(atPath: textfile) }
        let cli = try await BackupCLI(label: "push") { directory in
            """
            metrics.pushgateway = \(gateway.url)
            metrics.textfile = \(textfile)/backup.prom
            postgres.host = 127.0.0.1
            postgres.user = \(server.user)
            postgres.password = ${TEST_PGPASSWORD}
            postgres.database = push_db
            local.path = \(directory)
            [good]
            postgres.port = \(server.port)
            [flaky]
            postgres.port = \(server.port)
            """
        }
        defer { cli.cleanUp() }
        // flaky succeeds once; then its server "goes away" (a closed port), and its run fails.
        #expect(try await cli.run("now").status == 0)
        let first = try await gateway.samples()
        let success = "backup_last_success_timestamp_seconds"
        let flakySuccess = try #require(first["\(success){instance=\"\",job=\"flaky\"}"], "\(first.keys.sorted())")
        #expect(flakySuccess > Date().timeIntervalSince1970 - 300)
        #expect(first["\(success){instance=\"\",job=\"good\"}"] ?? 0 > 0)
        #expect(first["backup_last_stored_bytes{instance=\"\",job=\"good\"}"] ?? 0 > 0)

        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "[flaky]\npostgres.port = \(server.port)", with: "[flaky]\npostgres.port = \(closed)")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let failed = try await cli.run("now", "--job", "flaky")
        #expect(failed.status == 1)
        let second = try await gateway.samples()
        // The failed run is counted; the newest stored backup's time stays, read from the store.
        #expect(second["backup_failures_total{instance=\"\",job=\"flaky\"}"] == 1, "\(second)")
        #expect(second["backup_last_failure_timestamp_seconds{instance=\"\",job=\"flaky\"}"] ?? 0 > 0)
        let kept = try #require(second["\(success){instance=\"\",job=\"flaky\"}"])
        #expect(abs(kept - flakySuccess) < 2, "\(kept) against \(flakySuccess)")
        // good's group is untouched by flaky's push.
        #expect(second["\(success){instance=\"\",job=\"good\"}"] == first["\(success){instance=\"\",job=\"good\"}"])
        #expect(second["backup_runs_total{instance=\"\",job=\"good\"}"] == 1)

        // The textfile has the last run's job, whole, 0640, and nothing is left beside it.
        let path = "\(textfile)/backup.prom"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("backup_failures_total{job=\"flaky\"} 1") && !text.contains("job=\"good\""), "\(text)")
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: textfile) == ["backup.prom"])
        #expect(!failed.stderr.contains("could not push"), "\(failed.stderr)")
    }
}
