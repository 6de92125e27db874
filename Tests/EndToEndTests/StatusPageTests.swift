import Foundation
import Testing
import TestSupport

/// The page `backup run` serves at `/`, as headless Chromium (Debian's package) renders it: two jobs, one
/// backed up and verified, one whose server is gone; the page says which is which and why, holds no
/// script, no form and no secret, and a screenshot of it is made.
@Suite struct StatusPageTests {
    @Test(.timeLimit(.minutes(10))) func thePageShowsEachJobAsChromiumRendersIt() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("page_db", rows: 25)
        let httpPort = try FreePort.closed()
        let closed = try FreePort.closed()
        let cli = try await BackupCLI(label: "page") { directory in
            """
            http.listen = 127.0.0.1:\(httpPort)
            postgres.host = 127.0.0.1
            postgres.user = \(server.user)
            postgres.password = ${TEST_PGPASSWORD}
            postgres.database = page_db
            local.path = \(directory)
            schedule = 0 3 * * *
            [shop]
            postgres.port = \(server.port)
            verify = after-backup
            [billing]
            postgres.port = \(closed)
            """
        }
        defer { cli.cleanUp() }
        let daemon = try await Background.backup(cli, "run", stderrFile: "\(cli.directory)/daemon.log")
        defer { daemon.end() }
        let base = "http://127.0.0.1:\(httpPort)"
        // Nothing stored yet, so both run at start; then the page has shop's backup and billing's failure.
        try await waitUntil("both jobs' first runs") {
            let metrics = try await StatusEndpointTests.scrape(base)
            return metrics["backup_runs_total", "shop"] ?? 0 >= 1 && metrics["backup_runs_total", "billing"] ?? 0 >= 1
        }
        let headers = try await Shell.run("/usr/bin/curl", ["-s", "-D", "-", "-o", "/dev/null", base + "/"])
        #expect(headers.stdout.contains("200 OK") && headers.stdout.contains("text/html; charset=utf-8")
                && headers.stdout.contains("Content-Security-Policy: default-src 'none'"), "\(headers.stdout)")

        let profile = try Paths.temporaryDirectory("chromium")
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let chromium = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)", "--no-first-run"]
        let dom = try await Shell.run("/usr/bin/chromium", chromium + ["--dump-dom", base + "/"],
                                      environment: ["HOME": profile])
        #expect(dom.status == 0, "\(dom.stderr.suffix(2000))")
        let page = dom.stdout
        #expect(page.contains("data-job=\"shop\" data-destination=\"local\" data-state=\"ok\""), "\(page)")
        #expect(page.contains("data-job=\"billing\" data-destination=\"local\" data-state=\"no-backup\""))
        #expect(page.contains("<td>passed ") && page.contains("<td>NO-BACKUP</td>"), "\(page)")
        #expect(page.contains("<td>0</td>") && page.contains("<td>1 (last "), "failed runs: none of shop's, billing's one")
        #expect(page.contains("last run failed: billing (") && page.contains("connection refused"), "\(page)")
        #expect(page.components(separatedBy: "connection refused").count == 2, "the failure is said once")
        #expect(page.contains("1 of 2 not ok; 1 job whose last run failed."))
        #expect(!page.contains("<script") && !page.contains("<form") && !page.contains("http://")
                && !page.contains("https://"), "nothing on it loads, runs or sends anything")
        #expect(!page.contains(server.password))

        let screenshot = "\(profile)/status-page.png"
        let shot = try await Shell.run("/usr/bin/chromium", chromium + [
            "--window-size=1400,500", "--hide-scrollbars", "--screenshot=\(screenshot)", base + "/",
        ], environment: ["HOME": profile])
        #expect(shot.status == 0, "\(shot.stderr.suffix(2000))")
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "\(png.count) bytes")
        // docs/status-page.png is made this way: BACKUP_STATUS_SCREENSHOT=$PWD/docs/status-page.png.
        if let keep = ProcessInfo.processInfo.environment["BACKUP_STATUS_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: screenshot, toPath: keep)
        }
    }
}
