import Foundation
import Testing
import TestSupport

/// `backup run` with `http.listen`: /healthz, /readyz and /metrics over loopback, scraped with curl, change
/// after a backup and after a failed backup.
@Suite struct StatusEndpointTests {
    @Test(.timeLimit(.minutes(10))) func endpointsFollowTheDaemon() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("status_db", rows: 10)
        let httpPort = try FreePort.closed()
        let closed = try FreePort.closed()
        let cli = try await BackupCLI(label: "status") { directory in
            """
            postgres.host = 127.0.0.1
            postgres.user = \(server.user)
            postgres.password = ${TEST_PGPASSWORD}
            postgres.database = status_db
            local.path = \(directory)
            http.listen = 127.0.0.1:\(httpPort)
            interval = 2s
            [good]
            postgres.port = \(server.port)
            [bad]
            postgres.port = \(closed)
            """
        }
        defer { cli.cleanUp() }
        let base = "http://127.0.0.1:\(httpPort)"
        let log = "\(cli.directory)/daemon.log"
        let daemon = try await Background.backup(cli, "run", stderrFile: log)
        defer { daemon.end() }
        // Until each job ran once, then until the good one ran twice more (a change between two scrapes).
        var first = Metrics("")
        try await waitUntil("a run of the good job") {
            first = try await Self.scrape(base)
            return (first["backup_runs_total", "good"] ?? 0) >= 1 && (first["backup_runs_total", "bad"] ?? 0) >= 1
        }
        let healthz = try await Self.get(base + "/healthz")
        let readyz = try await Self.get(base + "/readyz")
        var second = Metrics("")
        try await waitUntil("two more runs of the good job") {
            second = try await Self.scrape(base)
            return (second["backup_runs_total", "good"] ?? 0) >= 3
        }
        let missing = try await Self.get(base + "/nothing")
        // Every 2 s a job may be mid-backup: the SIGTERM ends the daemon either way (DaemonTests has the idle one).
        let (result, _) = try await daemon.stop(SIGTERM)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(result.status == 0 || result.status == 143, "\(text)")
        #expect(healthz.code == "200" && healthz.body == "ok\n", "\(text)")
        #expect(readyz.code == "503" && readyz.body.contains("last run failed: bad (")
                && readyz.body.contains("connection refused"), "\(readyz.body)")
        #expect(missing.code == "404")
        let secondRuns = try #require(second["backup_runs_total", "good"]), firstRuns = try #require(first["backup_runs_total", "good"])
        #expect(secondRuns > firstRuns)
        #expect(try #require(first["backup_failures_total", "bad"]) >= 1 && second["backup_failures_total", "good"] == 0)
        #expect(try #require(second["backup_last_success_timestamp_seconds", "good"]) > Date().timeIntervalSince1970 - 120)
        #expect(second["backup_last_success_timestamp_seconds", "bad"] == 0)
        #expect(try #require(second["backup_last_failure_timestamp_seconds", "bad"]) > 0)
        let stored = try #require(second["backup_last_stored_bytes", "good"])
        let raw = try #require(second["backup_last_raw_bytes", "good"])
        #expect(stored > 0 && raw > stored)
        #expect(try #require(second["backup_next_run_timestamp_seconds", "good"]) > Date().timeIntervalSince1970 - 60)
        #expect(second["backup_last_verification_ok", "good"] == -1)
        #expect(second["backup_max_age_seconds", "good"] == Double(2 + 3600), "interval 2s plus the default status.grace")
        #expect(second.text.contains("# TYPE backup_runs_total counter"))
        #expect(second.text.contains("backup_build_info{version=\"") && second.text.contains("swift=\"6.")
                && second.text.contains("tools=\"postgres: pg_dump "), "\(second.text)")
    }

    /// A daemon started after a verified backup was made (a yearly schedule: nothing runs at start) reads
    /// the newest backup's gauges back from the store: when it finished, its sizes and duration, and its
    /// verification, as the manifest has them; with two destinations, the verified backup at each.
    @Test(.timeLimit(.minutes(10))) func aRestartedDaemonReadsTheNewestBackupBack() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("status_back", rows: 30)
        let httpPort = try FreePort.closed()
        let other = try Paths.temporaryDirectory("status-back-b")
        defer { try? FileManager.default.removeItem(atPath: other) }
        let cli = try await BackupCLI(label: "status-back") { directory in
            server.config(database: "status_back", directory: directory, extra: """
                verify = after-backup
                schedule = 0 0 1 1 *
                http.listen = 127.0.0.1:\(httpPort)
                destination = local, local@b
                local@b.path = \(other)
                """)
        }
        defer { cli.cleanUp() }
        let made = try await cli.run("now")
        try #require(made.status == 0, "\(made.stderr)")
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        let manifest = try cli.manifest(of: file)
        try #require(manifest.verification == "passed")
        let daemon = try await Background.backup(cli, "run", stderrFile: "\(cli.directory)/daemon.log")
        defer { daemon.end() }
        let base = "http://127.0.0.1:\(httpPort)"
        var metrics = Metrics("")
        try await waitUntil("the daemon's metrics") {
            metrics = try await Self.scrape(base)
            return metrics["backup_next_run_timestamp_seconds", "app"] ?? 0 > 0
        }
        _ = try await daemon.stop(SIGTERM)
        #expect(metrics["backup_runs_total", "app"] == 0, "nothing ran at start")
        #expect(metrics["backup_last_success_timestamp_seconds", "app"] == manifest.finishedAt.timeIntervalSince1970)
        #expect(metrics["backup_last_stored_bytes", "app"] == Double(manifest.storedBytes))
        #expect(metrics["backup_last_raw_bytes", "app"] == Double(manifest.rawBytes))
        let duration = manifest.finishedAt.timeIntervalSince(manifest.startedAt)
        #expect(metrics["backup_last_duration_seconds", "app"] == duration)
        #expect(metrics["backup_last_verification_ok", "app"] == 1)
        #expect(metrics["backup_last_verified_timestamp_seconds", "app"] == manifest.startedAt.timeIntervalSince1970,
                "\(metrics.text)")
        for destination in ["local", "local@b"] {
            #expect(metrics["backup_destination_last_verified_timestamp_seconds", "app", destination]
                    == manifest.startedAt.timeIntervalSince1970, "\(destination): \(metrics.text)")
        }
    }

    /// `curl` of `url`: the status code and the body.
    static func get(_ url: String) async throws -> (code: String, body: String) {
        let result = try await Shell.run("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", url])
        let code = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).last.map(String.init) ?? ""
        return (code, String(result.stdout.dropLast(code.count + 1)))
    }

    /// The daemon's /metrics; empty while it does not answer yet.
    static func scrape(_ base: String) async throws -> Metrics {
        let answer = try await get(base + "/metrics")
        return Metrics(answer.code == "200" ? answer.body : "")
    }

    /// Prometheus text format, read back: `name{job="x"} value` lines.
    struct Metrics {
        var values: [String: Double] = [:]
        let text: String
        init(_ text: String) {
            self.text = text
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let value = Double(parts[1]) else { continue }
                values[String(parts[0])] = value
            }
        }
        subscript(name: String, job: String) -> Double? { values["\(name){job=\"\(job)\"}"] }
        /// A per-destination metric.
        subscript(name: String, job: String, destination: String) -> Double? {
            values["\(name){job=\"\(job)\",destination=\"\(destination)\"}"]
        }
    }
}

/// `log.format = json`: every line on stderr is one JSON object with time, level and message (and the
/// job where there is one), and no secret appears.
@Suite struct JSONLogTests {
    @Test func failedBackupLogsJSONLines() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("json_log_db", rows: 10)
        let cli = try await BackupCLI(label: "jsonlog", config: { directory in
            "log.format = json\n" + server.config(database: "json_log_db", directory: directory)
        }, environment: ["TEST_PGPASSWORD": "wrong-Secret-77zz"])
        defer { cli.cleanUp() }
        let result = try await cli.run("now")
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count >= 2, "\(result.stderr)")
        for line in lines {
            let object = try #require(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "not JSON: \(line)")
            #expect(object["time"] != nil && object["level"] != nil && object["message"] != nil, "\(line)")
        }
        #expect(lines.contains { $0.contains(#""job":"app""#) && $0.contains(#""level":"error""#) && $0.contains("password authentication failed") })
        #expect(!result.stderr.contains("wrong-Secret-77zz"))
    }
}
