import Foundation
import Testing
import TestSupport

/// A real Prometheus scrapes a real `backup run` (loopback) and a Pushgateway that `backup now` pushes to,
/// and evaluates deploy/prometheus/backup-alerts.yaml (each `for:` made 0 s, so the test need not wait ten
/// minutes): an alert fires for a failing job and resolves once it succeeds, the age alert fires for a
/// CronJob-only job, and every query of the Grafana dashboard returns data.
@Suite struct PrometheusTests {
    @Test(.timeLimit(.minutes(10))) func alertsAndDashboardQueriesAgainstARealPrometheus() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("prom_shop", rows: 30)
        try await server.psql("DROP DATABASE IF EXISTS prom_flaky")
        let gateway = try await Pushgateway.start()
        defer { gateway.end() }
        let httpPort = try FreePort.closed()
        let cli = try await BackupCLI(label: "prom") { directory in
            """
            http.listen = 127.0.0.1:\(httpPort)
            postgres.host = 127.0.0.1
            postgres.port = \(server.port)
            postgres.user = \(server.user)
            postgres.password = ${TEST_PGPASSWORD}
            local.path = \(directory)
            interval = 2s
            count.keep = 3
            [shop]
            postgres.database = prom_shop
            verify = after-backup
            [flaky]
            postgres.database = prom_flaky
            """
        }
        defer { cli.cleanUp() }
        // A CronJob-only job, in a config of its own: backup now pushes it; allowed 2 s (interval 1 s, grace 1 s).
        let cron = try await BackupCLI(label: "prom-cron") { directory in
            server.config(job: "nightly", database: "prom_shop", directory: directory,
                          extra: "interval = 1s\nstatus.grace = 1s")
                .replacingOccurrences(of: "# written by the tests\n", with: "metrics.pushgateway = \(gateway.url)\n")
        }
        defer { cron.cleanUp() }
        #expect(try await cron.run("now").status == 0)

        let rules = try String(contentsOfFile: "\(Paths.root)/deploy/prometheus/backup-alerts.yaml", encoding: .utf8)
            .replacingOccurrences(of: #"for: \d+m"#, with: "for: 0s", options: .regularExpression)
        let gatewayTarget = String(gateway.url.dropFirst("http://".count))
        let prometheus = try await Prometheus.start(targets: ["backup": "127.0.0.1:\(httpPort)", "pushgateway": gatewayTarget],
                                                    rules: rules)
        defer { prometheus.end() }
        let daemon = try await Background.backup(cli, "run", stderrFile: "\(cli.directory)/daemon.log")
        defer { daemon.end() }

        func firing(_ alert: String, job: String) async throws -> Bool {
            try await !prometheus.query("ALERTS{alertname=\"\(alert)\",job=\"\(job)\",alertstate=\"firing\"}").isEmpty
        }
        try await waitUntil("BackupFailed firing for flaky (its database does not exist)") {
            try await firing("BackupFailed", job: "flaky")
        }
        try await waitUntil("BackupTooOld firing for the CronJob's nightly") { try await firing("BackupTooOld", job: "nightly") }
        #expect(try await !firing("BackupFailed", job: "shop"))
        #expect(try await !firing("BackupTooOld", job: "shop"))

        // Every query of the dashboard has data.
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(
            fileURLWithPath: "\(Paths.root)/deploy/grafana/backup-dashboard.json"))) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(expressions.count >= 8)
        for expression in expressions {
            let series = try await prometheus.query(expression)
            #expect(!series.isEmpty, "no data for \(expression)")
        }
        #expect(try await prometheus.query("backup_last_verification_ok{job=\"shop\"} == 1").count == 1)

        // flaky's database appears: its next run succeeds and the alert resolves.
        try await server.makeSampleDatabase("prom_flaky", rows: 5)
        try await waitUntil("BackupFailed for flaky resolved") { try await !firing("BackupFailed", job: "flaky") }
        #expect(try await prometheus.query("backup_last_success_timestamp_seconds{job=\"flaky\"} > 0").count == 1)
    }
}
