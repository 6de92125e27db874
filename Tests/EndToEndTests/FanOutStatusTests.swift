import Foundation
import Testing
import TestSupport

/// A fan-out run that stores its backup at one destination and fails at the other is a failed run: `backup
/// now` exits 1, and `backup run` is not ready (/readyz 503, naming the job) while its per-destination gauges
/// tell which copy exists.
@Suite struct FanOutStatusTests {
    @Test(.timeLimit(.minutes(10))) func aPartialRunIsNotReadyAndItsGaugesNameTheFailingDestination() async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        try await PostgresServer.shared.makeSampleDatabase("fan_status", rows: 20)
        let bucket = try await moto.makeBucket("fan-status")
        let httpPort = try FreePort.closed()
        // Every part upload fails, so the bucket's copy fails at its commit while the volume's is published.
        try proxy.plan([["method": "PUT", "query": "partNumber", "fault": "503", "times": -1]])
        let cli = try await FanOutCLITests.cli("status", database: "fan_status", bucket: bucket, extra: """
            s3.endpoint = \(proxy.endpoint)
            s3.retries = 0
            interval = 1h
            """)
        defer { cli.cleanUp() }
        try ("http.listen = 127.0.0.1:\(httpPort)\n" + String(contentsOfFile: cli.configPath, encoding: .utf8))
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)

        // The daemon first (with no backup yet its first run is due at once, the next an hour later).
        let log = "\(cli.directory)/daemon.log"
        let daemon = try await Background.backup(cli, "run", stderrFile: log)
        defer { daemon.end() }
        let base = "http://127.0.0.1:\(httpPort)"
        var metrics = StatusEndpointTests.Metrics("")
        try await waitUntil("the daemon's first run") {
            metrics = try await StatusEndpointTests.scrape(base)
            return (metrics["backup_runs_total", "app"] ?? 0) >= 1
        }
        let readyz = try await StatusEndpointTests.get(base + "/readyz")
        let (stopped, _) = try await daemon.stop(SIGTERM)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(stopped.status == 0, "idle until the next run, an hour away: \(text)")
        #expect(text.contains("partial backup: stored at local"), "\(text)")
        #expect(readyz.code == "503" && readyz.body.contains("last run failed: app"), "\(readyz.body)")
        #expect(metrics["backup_failures_total", "app"] == 1 && (metrics["backup_last_failure_timestamp_seconds", "app"] ?? 0) > 0,
                "\(metrics.text)")
        let success = "backup_destination_last_success_timestamp_seconds", failure = "backup_destination_last_failure_timestamp_seconds"
        #expect((metrics[success, "app", "local"] ?? 0) > 0 && metrics[success, "app", "s3"] == 0, "\(metrics.text)")
        #expect((metrics[failure, "app", "s3"] ?? 0) > 0 && metrics[failure, "app", "local"] == 0, "\(metrics.text)")

        // `backup now`, the same: exit 1, the volume's copy stored, the bucket's named as failed.
        let now = try await cli.run("now")
        #expect(now.status == 1, "\(now.stderr)")
        #expect(now.stderr.contains("partial backup: stored at local") && now.stderr.contains("failed at s3:"), "\(now.stderr)")
        #expect(try await cli.listed().map { $0["destinations"] as? [String] ?? [] } == [["local"], ["local"]])
        #expect(try await moto.keys(bucket).isEmpty)
    }
}
