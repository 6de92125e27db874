import Foundation
import Testing
import TestSupport

/// What a person at a terminal sees (the CLI run under `script`, which gives it a pseudo-terminal): one
/// summary line per job after `backup now`, progress against the previous backup's size with a rate and the
/// time left, and text logs with the message first and UTC times. Without a terminal: none of it on stdout.
@Suite struct TerminalOutputTests {
    @Test func nowSummarisesEachJobForAPerson() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("tty_out", rows: 60_000)
        let cli = try await BackupCLI(label: "tty-out", config: { server.config(database: "tty_out", directory: $0) })
        defer { cli.cleanUp() }
        // A local zone set for the process changes nothing the tool prints: times are UTC.
        var local = cli
        local.environment["TZ"] = "America/New_York"
        let piped = try await local.run("now")
        #expect(piped.status == 0 && piped.stdout.isEmpty, "no summary without a terminal: \(piped.stdout)")
        // Logs: the time in UTC as …Z, the level, the message, then job= and the sizes in binary units.
        let complete = try #require(piped.stderr.split(separator: "\n").first { $0.contains("backup complete") })
        #expect(complete.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info backup complete job=app "#,
                                options: .regularExpression) != nil, "\(complete)")
        #expect(complete.range(of: #" raw=[0-9.]+MiB "#, options: .regularExpression) != nil, "\(complete)")

        let command = ([Paths.backup, "now", "--config", cli.configPath]).map(Shell.quote).joined(separator: " ")
        let tty = try await Shell.run("/usr/bin/script", ["-qefc", command, "/dev/null"], environment: cli.environment)
        #expect(tty.status == 0, "\(tty.stdout)")
        let screen = tty.stdout.replacingOccurrences(of: "\r", with: "\n")
        let summary = try #require(screen.split(separator: "\n").first { $0.hasPrefix("app: ") && $0.contains(" → ") },
                                   "\(screen)")
        #expect(summary.range(of: #"^app: [0-9.]+ MiB → [0-9.]+ (KiB|MiB) \(gzip\) in [0-9.]+ s → local$"#,
                              options: .regularExpression) != nil, "\(summary)")
        // Progress, against the first backup's size: the share, the rate and the time left.
        #expect(screen.range(of: #"app: [0-9.]+ (KiB|MiB) of ~[0-9.]+ MiB \([0-9]+%\), [0-9.]+ [KMG]iB/s, [0-9]+s left"#,
                             options: .regularExpression) != nil, "\(screen)")
    }
}
