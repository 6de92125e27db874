import Age
import BuiltinPlugins
import Engine
import Foundation
import Testing
import TestSupport

/// The `backup` command as a person meets it: config errors, the original container's variables,
/// retention on disk, and job selection.
@Suite struct CommandTests {
    /// Each config mistake is one line naming file:line, the key and the fix, with exit status 78.
    @Test(arguments: [
        ("gzip.levle = 6", "backup.conf:10: gzip.levle: unknown key; did you mean gzip.level?"),
        ("compressor = lz4", "backup.conf:10: compressor: unknown compressor 'lz4'; known: gzip, zstd, none"),
        ("gzip.level = 11", "backup.conf:10: gzip.level: '11' is not a whole number from 1 to 9"),
        ("postgres.port = ${NO_SUCH_VARIABLE_XYZ}", "backup.conf:10: postgres.port: environment variable NO_SUCH_VARIABLE_XYZ is not set"),
        ("postgres.password_file = /nonexistent/secret", "backup.conf:10: postgres.password_file: cannot read '/nonexistent/secret'"),
        ("postgres.format = tar", "backup.conf:10: postgres.format: 'tar' is not one of plain, custom"),
        ("postgres.database = again", "backup.conf:10: postgres.database: set twice in one section (first at line 9)"),
    ])
    func configErrorsAreOneClearLine(_ line: String, _ expected: String) async throws {
        let server = try await PostgresServer.shared
        let cli = try await BackupCLI(label: "cfgerr") { server.config(database: "unused", directory: $0, extra: line) }
        defer { cli.cleanUp() }
        for command in ["now", "check-config", "list"] {
            let result = try await cli.run(command)
            #expect(result.status == 78, "\(command): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(command) printed \(lines)")
            #expect(result.stderr.contains(expected), "\(command): \(result.stderr)")
        }
        #expect(try cli.files().isEmpty)
    }

    @Test func missingRequiredKeyIsNamed() async throws {
        let cli = try await BackupCLI(label: "required") { "local.path = \($0)\n[app]\npostgres.user = x\n" }
        defer { cli.cleanUp() }
        let result = try await cli.run("now")
        #expect(result.status == 78)
        #expect(result.stderr.contains("postgres.database: missing; postgres needs it"))
    }

    @Test func unknownJobIsAUsageError() async throws {
        let server = try await PostgresServer.shared
        let cli = try await BackupCLI(label: "nojob") { server.config(database: "unused", directory: $0) }
        defer { cli.cleanUp() }
        let result = try await cli.run("now", "--job", "nope")
        #expect(result.status == 64)
        #expect(result.stderr.contains("no job named 'nope'; jobs: app"))
    }

    /// No config file: the original container's variables make one gzip job named after the database.
    @Test func originalContainerVariablesStillWork() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("legacy_db", rows: 30)
        let directory = try Paths.temporaryDirectory("legacy")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = [
            "DATABASE_SERVICE_NAME": "127.0.0.1", "POSTGRESQL_PORT_NUM": String(server.port),
            "POSTGRESQL_USER": server.user, "POSTGRESQL_PASSWORD": server.password,
            "POSTGRESQL_DATABASE": "legacy_db", "BACKUP_DIR": directory, "NUM_BACKUPS": "2", "BACKUP_CONFIG": "",
        ]
        for _ in 0..<3 {
            let result = try await Shell.run(Paths.backup, ["now"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        #expect(files.count == 6, "NUM_BACKUPS=2 keeps two backups with their manifests and globals: \(files)")
        #expect(files.allSatisfy { $0.hasPrefix("legacy_db_") && ($0.hasSuffix(".sql.gz") || $0.hasSuffix(".sql.gz.manifest.json") || $0.hasSuffix(".sql.gz.globals.json")) })
        let gz = try #require(files.first { $0.hasSuffix(".sql.gz") })
        #expect(try await Shell.sh("gunzip -c '\(directory)/\(gz)' | grep -c 'CREATE TABLE'").stdout.hasPrefix("2"))

        var missing = environment
        missing["DATABASE_SERVICE_NAME"] = nil
        let result = try await Shell.run(Paths.backup, ["now"], environment: missing.merging(["DATABASE_SERVICE_NAME": ""]) { $1 })
        #expect(result.status == 78)
        #expect(result.stderr.contains("DATABASE_SERVICE_NAME: not set"))
    }

    /// count.keep removes only this job's own backups, oldest first, never other files in the directory.
    @Test func retentionTouchesOnlyItsOwnBackups() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("retain_db", rows: 20)
        let cli = try await BackupCLI(label: "retain") {
            server.config(database: "retain_db", directory: $0, extra: "count.keep = 2")
        }
        defer { cli.cleanUp() }
        let strangers = ["notes.txt", "app_20200101T000000Z.sql.gz", "other_20200101T000000Z.sql.gz", "app_old.sql.gz"]
        for name in strangers { try "not a backup\n".write(toFile: "\(cli.backups)/\(name)", atomically: true, encoding: .utf8) }
        var made: [String] = []
        for _ in 0..<3 {
            let before = Set(try cli.files())
            let result = try await cli.run("now")
            #expect(result.status == 0, "\(result.stderr)")
            made += Set(try cli.files()).subtracting(before).filter { $0.hasSuffix(".sql.gz") }
        }
        let files = Set(try cli.files())
        #expect(made.count == 3)
        #expect(!files.contains(made[0]) && !files.contains(made[0] + Manifest.suffix) && !files.contains(made[0] + ".globals.json"),
                "the oldest backup should go with its sidecars: \(files)")
        #expect(files.count == strangers.count + 6)
        #expect(files.isSuperset(of: [made[1], made[2]] + strangers))
        #expect(try await cli.listed().count == 2)
    }

    @Test func checkConfigPrintsEffectiveSettingsPerJob() async throws {
        let cli = try await BackupCLI(label: "check") {
            "local.path = \($0)\npostgres.user = u\npostgres.password = hunter2-secret\n[one]\npostgres.database = a\n[two]\npostgres.database = b\ncompressor = zstd\nzstd.level = 7\n"
        }
        defer { cli.cleanUp() }
        let result = try await cli.run("check-config")
        #expect(result.status == 0)
        #expect(result.stdout.contains("[one]") && result.stdout.contains("[two]"))
        #expect(result.stdout.contains("zstd.level = 7") && result.stdout.contains("count.keep = 31"))
        #expect(result.stdout.contains("postgres.password = <redacted>") && !result.stdout.contains("hunter2"))
        #expect(result.stdout.contains("configuration OK: 2 jobs"))
        // Which pg_dump versions the machine offers (each server major needs one at least as new).
        let version = try await Shell.run(Paths.pgTool("pg_dump"), ["--version"]).stdout.split(separator: " ")[2]
        #expect(result.stdout.contains("# postgres: pg_dump \(version.trimmingCharacters(in: .whitespacesAndNewlines)) at "), "\(result.stdout)")
        // The password written out in a file everyone may read is warned about, without the password.
        #expect(result.stderr.contains("postgres.password is written out in a file every user of this machine can read"), "\(result.stderr)")
        #expect(!result.stderr.contains("hunter2"))
    }
}

/// `backup run` as the pod's long-lived process: backs up at start and every `interval`, and a SIGTERM
/// while idle ends it with status 0.
@Suite struct DaemonTests {
    @Test func runBacksUpEveryInterval() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("daemon_db", rows: 10)
        let cli = try await BackupCLI(label: "daemon") {
            server.config(database: "daemon_db", directory: $0, extra: "interval = 2s\ncompressor = zstd")
        }
        defer { cli.cleanUp() }
        let daemon = try await Background.backup(cli, "run")
        defer { daemon.end() }
        try await waitUntil("two backups") { try cli.files().filter { $0.hasSuffix(".sql.zst") }.count >= 2 }
        // Every 2 s the daemon may be mid-backup: the SIGTERM ends it either way (an idle one is the next test's).
        let (result, _) = try await daemon.stop(SIGTERM)
        #expect(result.status == 0 || result.status == 143, "\(result.stderr)")
        #expect(result.stderr.contains("next run at") && result.stderr.contains("stopping on signal 15"), "\(result.stderr)")
    }

    /// A daemon whose next run is an hour away is idle once it logged that: a SIGTERM then is a normal
    /// shutdown, 0, with nothing stopped.
    @Test func sigtermWhileIdleExitsZero() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("daemon_idle_db", rows: 10)
        let cli = try await BackupCLI(label: "daemon-idle") {
            server.config(database: "daemon_idle_db", directory: $0, extra: "interval = 1h")
        }
        defer { cli.cleanUp() }
        let log = "\(cli.directory)/daemon.log"
        let daemon = try await Background.backup(cli, "run", stderrFile: log)
        defer { daemon.end() }
        // "next run at" twice: at start, then after the first backup, which is due at once.
        try await waitUntil("the first backup and the next run's time") {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: "next run at").count - 1 >= 2
        }
        #expect(try cli.files().filter { $0.hasSuffix(".sql.gz") }.count == 1)
        let (result, _) = try await daemon.stop(SIGTERM)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(result.status == 0, "\(text)")
        #expect(text.contains("stopping on signal 15") && !text.contains("stopped and removed"), "\(text)")
    }
}

/// Live progress appears on a terminal (here a pseudo-terminal made by `script`) and never in a log.
@Suite struct ProgressTests {
    @Test func progressOnlyOnATerminal() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("progress_db", rows: 200)
        let cli = try await BackupCLI(label: "progress") { server.config(database: "progress_db", directory: $0) }
        defer { cli.cleanUp() }
        let command = "'\(Paths.backup)' now --config '\(cli.configPath)'"
        let onTerminal = try await Shell.sh("script -qec \(Shell.quote(command)) /dev/null", environment: cli.environment)
        #expect(onTerminal.status == 0, "\(onTerminal.stdout)")
        // Without a previous backup, against the database's size: `app: 64.0 KiB of ~7.6 MiB (0%), 1.2 MiB/s, 6s left`.
        let line = #/app: [0-9.]+ (B|KiB|MiB)( of ~[0-9.]+ (KiB|MiB) \([0-9]+%\))?, [0-9.]+ (B|KiB|MiB)/s, [0-9]+s/#
        #expect(onTerminal.stdout.contains(line), "\(onTerminal.stdout)")
        let inLog = try await cli.run("now")
        #expect(inLog.status == 0)
        #expect(!inLog.stderr.contains("/s, ") && !inLog.stderr.contains("\r"))
    }
}

/// The daemon on a per-minute schedule with two jobs, one of whose servers is stopped: the other keeps
/// its schedule, the failing one is logged with a count and recovers when its server comes back, and a
/// SIGTERM while idle ends the daemon with status 0 at once, not at its next run.
@Suite struct ScheduledDaemonTests {
    @Test(.timeLimit(.minutes(10))) func twoJobsOneServerDown() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("sched_up", rows: 10)
        let other = try Paths.temporaryDirectory("pg-other")
        let started = try await Shell.run("\(Paths.root)/scripts/pg-sandbox", ["start", other])
        try #require(started.status == 0, "\(started.stderr)")
        defer { _ = system("'\(Paths.root)/scripts/pg-sandbox' stop '\(other)'; rm -rf '\(other)'") }
        let port = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(try await Shell.run("\(Paths.root)/scripts/pg-sandbox", ["stop", other]).status == 0)

        let cli = try await BackupCLI(label: "sched") { directory in
            server.config(job: "up", database: "sched_up", directory: directory, extra: "schedule = * * * * *") + """

                [down]
                postgres.port = \(port)
                postgres.user = postgres
                postgres.password_file = \(other)/password
                postgres.database = postgres
                schedule = * * * * *
                """
        }
        defer { cli.cleanUp() }
        let logPath = "\(cli.directory)/daemon.log"
        func logText() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        func count(_ prefix: String) throws -> Int { try cli.files().filter { $0.hasPrefix(prefix) && $0.hasSuffix(".sql.gz") }.count }
        let daemon = try await Background.backup(cli, "run", stderrFile: logPath)
        defer { daemon.end() }
        try await waitUntil("the down job's first failure", limit: .seconds(150)) { logText().contains("job has failed 1 time") }
        let restarted = try await Shell.run("\(Paths.root)/scripts/pg-sandbox", ["start", other, port])
        try #require(restarted.status == 0, "\(restarted.stderr)")
        try await waitUntil("a backup of down and two of up", limit: .seconds(240)) { try count("down_") >= 1 && count("up_") >= 2 }
        // Idle: each job logged its next run after its last backup, and nothing is being written. The next
        // runs are at the next minute, so the SIGTERM below comes while the daemon sleeps.
        try await waitUntil("both jobs to be idle") {
            let lines = logText().split(separator: "\n")
            let idle = ["up", "down"].allSatisfy { job in
                let last = lines.lastIndex { $0.contains("job=\(job)") && $0.contains("next run at") }
                let finished = lines.lastIndex { $0.contains("job=\(job)") && !$0.contains("next run at") }
                return last != nil && (finished == nil || last! > finished!)
            }
            return try idle && !cli.allFiles().contains { $0.hasSuffix(".partial") }
        }
        let backupsAtSignal = try cli.files().count
        let (result, took) = try await daemon.stop(SIGTERM)
        let log = logText()
        #expect(result.status == 0, "\(log)")
        // Promptly, not at the next scheduled run (up to a minute away); the margin is for a loaded machine.
        #expect(took < .seconds(30), "SIGTERM while idle took \(took)")
        #expect(try cli.files().count == backupsAtSignal, "a run started after the SIGTERM")
        let files = try cli.files()
        #expect(files.filter { $0.hasPrefix("up_") && $0.hasSuffix(".sql.gz") }.count >= 2, "\(files)")
        #expect(files.filter { $0.hasPrefix("down_") && $0.hasSuffix(".sql.gz") }.count >= 1, "\(files)")
        #expect(log.contains("job=down") && log.contains("cannot reach PostgreSQL"))
        #expect(log.contains("job has failed 1 time(s) in a row"))
        #expect(log.contains("next run at"))
    }
}

/// `parallel = 2` lets `backup run` back up two jobs at the same time (by default they take turns).
@Suite struct ParallelDaemonTests {
    @Test func twoJobsRunAtOnce() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("par_a", rows: 10)
        try await server.makeSampleDatabase("par_b", rows: 10)
        let directory = try Paths.temporaryDirectory("par-tool")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wrapper = try FakePgDump.write(in: directory, body: """
            /usr/bin/pg_dump "$@" | head -c 50000
            \(FakePgDump.hang)
            """)
        defer { FakePgDump.endStandIn(in: directory) }
        let cli = try await BackupCLI(label: "parallel") { backups in
            "parallel = 2\npostgres.pg_dump = \(wrapper)\n"
                + server.config(job: "a", database: "par_a", directory: backups) + "\n[b]\npostgres.database = par_b\n"
        }
        defer { cli.cleanUp() }
        let daemon = try await Background.backup(cli, "run", stderrFile: "\(cli.directory)/daemon.log")
        defer { daemon.end() }
        // Each stand-in hangs once its dump began, so two hanging means two dumps at once.
        var both = true
        do {
            try await waitUntil("both jobs to dump at once") { FakePgDump.hanging(in: directory).count >= 2 }
        } catch {
            both = false
        }
        let (result, _) = try await daemon.stop(SIGTERM)
        let log = (try? String(contentsOfFile: "\(cli.directory)/daemon.log", encoding: .utf8)) ?? ""
        #expect(both, "two jobs should be dumping at the same time: \(log)")
        #expect(result.status == 143, "\(log)")
        #expect(!(try cli.allFiles().contains { $0.hasSuffix(".partial") }))
    }
}

/// `backup prune`: dry runs say keep or delete and why, `--as-of` moves the clock, and a real run deletes.
@Suite struct PruneTests {
    @Test func pruneDryRunThenForReal() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("prune_db", rows: 10)
        let cli = try await BackupCLI(label: "prune") { server.config(database: "prune_db", directory: $0, extra: "count.keep = 100") }
        defer { cli.cleanUp() }
        for _ in 0..<3 { #expect(try await cli.run("now").status == 0) }
        let before = try cli.files()
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "\nretention = expire\nexpire.after = 1d\nexpire.min_keep = 1\n")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let later = Timestamp.iso8601(Date().addingTimeInterval(3 * 86_400))
        let dry = try await cli.run("prune", "--dry-run", "--as-of", later)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("[app] 1 to keep, 2 to delete"), "\(dry.stdout)")
        #expect(dry.stdout.contains("(one of the newest 1)") && dry.stdout.contains("(older than 1d)"))
        // Oldest first, as `list` shows them, the file names in one column.
        let rows = dry.stdout.split(separator: "\n").dropFirst().map(String.init)
        #expect(rows.map { $0.split(separator: " ", omittingEmptySubsequences: true).first } == ["delete", "delete", "keep"])
        #expect(Set(rows.map { $0.range(of: "app_")?.lowerBound.utf16Offset(in: $0) }).count == 1, "\(rows)")
        #expect(!dry.stdout.contains("deleted"))
        #expect(try cli.files() == before, "a dry run deletes nothing")
        let json = try await cli.run("prune", "--dry-run", "--as-of", later, "--json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let destination = try #require((report["destinations"] as? [[String: Any]])?.first)
        let backups = try #require(destination["backups"] as? [[String: Any]])
        #expect(report["version"] as? Int == 1 && report["dry_run"] as? Bool == true && report["as_of"] as? String == later)
        #expect(destination["job"] as? String == "app" && destination["deleted"] as? Bool == false)
        #expect(backups.map { $0["action"] as? String } == ["delete", "delete", "keep"], "\(json.stdout)")
        #expect(backups.allSatisfy { ($0["id"] as? String)?.count == 16 && $0["reason"] is String })
        let real = try await cli.run("prune", "--as-of", later)
        #expect(real.status == 0 && real.stdout.contains("[app] deleted 2"), "\(real.stdout)")
        #expect(try await cli.listed().count == 1)
        #expect(try cli.files().count == 3, "the newest backup with its manifest and globals")
        #expect(try await cli.run("prune", "--as-of", "yesterday").status == 64)
    }

    @Test func legacyRollingStrategySelectsRolling() async throws {
        let environment = [
            "DATABASE_SERVICE_NAME": "db", "POSTGRESQL_USER": "u", "POSTGRESQL_DATABASE": "app", "BACKUP_DIR": "/backups",
            "BACKUP_STRATEGY": "rolling", "DAILY_BACKUPS": "6", "WEEKLY_BACKUPS": "3", "MONTHLY_BACKUPS": "2", "BACKUP_CONFIG": "",
        ]
        let result = try await Shell.run(Paths.backup, ["check-config"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        for line in ["retention = rolling", "rolling.daily = 6", "rolling.weekly = 3", "rolling.monthly = 2"] {
            #expect(result.stdout.contains(line), "\(result.stdout)")
        }
    }
}

/// The shipped example configuration stays valid and keeps using every key, as the README promises.
@Suite struct ExampleConfigTests {
    static let path = "\(Paths.root)/config/backup.conf"

    @Test func exampleConfigPassesCheckConfig() async throws {
        let directory = try Paths.temporaryDirectory("example")
        let secret = directory + "/password", token = directory + "/token", slack = directory + "/slack"
        try "example\n".write(toFile: secret, atomically: true, encoding: .utf8)
        try "tok\n".write(toFile: token, atomically: true, encoding: .utf8)
        try "https://hooks.slack.com/services/T0/B0/x\n".write(toFile: slack, atomically: true, encoding: .utf8)
        let recipients = directory + "/recipients"
        try "# the backup pod's recipients\n\(AgeKeys.generate().recipient)\n".write(toFile: recipients, atomically: true, encoding: .utf8)
        let result = try await Shell.run(Paths.backup, ["check-config", "--config", Self.path], environment: [
            "APP_PASSWORD_FILE": secret, "POSTGRESQL_PASSWORD": "x", "WEBHOOK_TOKEN_FILE": token, "SLACK_URL_FILE": slack,
            "S3_SECRET_FILE": secret, "AGE_RECIPIENTS_FILE": recipients, "REPORTS_PASSPHRASE_FILE": secret,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("configuration OK: 5 jobs"), "\(result.stdout)")
    }

    @Test func exampleConfigUsesEveryKey() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("#") }
        let used = Set(lines.compactMap { $0.split(separator: "=").first?.trimmingCharacters(in: .whitespaces) })
        let keys = JobLoader.coreKeys.map(\.name)
            + BuiltinPlugins.registry.all.flatMap { factory in factory.keys.map { "\(factory.name).\($0.name)" } }
        let missing = keys.filter { !used.contains($0) && !used.contains($0 + "_file") }
        #expect(missing.isEmpty, "config/backup.conf does not use \(missing)")
    }
}

/// Schedules: `backup next` shows them, and the config rejects what cannot work.
@Suite struct ScheduleTests {
    @Test func nextPrintsRunTimesInTheJobsTimezone() async throws {
        let cli = try await BackupCLI(label: "next") {
            "local.path = \($0)\npostgres.user = u\n[a]\npostgres.database = a\nschedule = 30 1 * * *\ntimezone = America/New_York\n[b]\npostgres.database = b\ninterval = 6h\n"
        }
        defer { cli.cleanUp() }
        let result = try await cli.run("next", "--count", "3")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "[a] schedule 30 1 * * *, timezone America/New_York")
        // No backup yet: `backup run` would back it up at once (catch_up), as it backs up an interval job.
        #expect(lines.dropFirst().first == "  at start (backup run backs it up at once)", "\(lines)")
        let times = lines.dropFirst(2).prefix(3)
        #expect(times.count == 3 && times.allSatisfy { $0.hasPrefix("  20") && $0.contains("T01:30:00-05:00") })
        let b = try #require(lines.firstIndex(of: "[b] every 6h, timezone UTC"), "\(lines)")
        #expect(lines[b + 1] == "  at start (backup run backs it up at once)")
        let first = try #require(Timestamp.parseISO8601(lines[b + 2].trimmingCharacters(in: .whitespaces)))
        #expect(lines[b + 2].hasSuffix("Z") && abs(first.timeIntervalSinceNow - 6 * 3600) < 120, "\(lines)")
        // A scheduled job with a fresh backup waits for its time; with catch_up = off it always does.
        let json = try await cli.run("next", "--count", "2", "--json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let jobs = try #require(report["jobs"] as? [[String: Any]])
        #expect(report["version"] as? Int == 1 && jobs.map { $0["job"] as? String } == ["a", "b"])
        #expect(jobs.map { $0["at_start"] as? Bool } == [true, true] && jobs.map { ($0["runs"] as? [String])?.count } == [2, 2])
        #expect(jobs.last?["timezone"] as? String == "UTC" && jobs.last?["rule"] as? String == "every 6h")
        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "timezone = America/New_York", with: "timezone = America/New_York\ncatch_up = off")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let later = try await cli.run("next", "--count", "1")
        #expect(later.stdout.split(separator: "\n").dropFirst().first?.contains("T01:30:00-05:00") == true, "\(later.stdout)")
    }

    @Test(arguments: [
        ("schedule = 61 * * * *", "schedule: '61' is not a valid minute (0-59)"),
        ("schedule = @daily\ninterval = 1h", "schedule: set either schedule or interval for a job, not both"),
        ("timezone = Mars/Olympus", "timezone: 'Mars/Olympus' is not a timezone"),
    ])
    func badSchedulesAreConfigErrors(_ lines: String, _ expected: String) async throws {
        let cli = try await BackupCLI(label: "badsched") { "local.path = \($0)\npostgres.user = u\n[a]\npostgres.database = a\n\(lines)\n" }
        defer { cli.cleanUp() }
        let result = try await cli.run("check-config")
        #expect(result.status == 78)
        #expect(result.stderr.contains(expected), "\(result.stderr)")
    }
}

/// `backup --version`: the release, the commit it was built from (as git names this checkout's HEAD), the
/// Swift it was built with, and each pg_dump found; the daemon's `backup_build_info` says the same.
@Suite struct VersionTests {
    @Test func versionNamesTheBuildAndThePgDumps() async throws {
        let result = try await Shell.run(Paths.backup, ["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("backup ") == true && lines.first?.split(separator: ".").count == 3, "\(lines)")
        let head = try await Shell.run("/usr/bin/git", ["-C", Paths.root, "rev-parse", "--short=12", "HEAD"])
        try #require(head.status == 0, "\(head.stderr)")
        let commit = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(lines.contains { $0.hasPrefix("commit \(commit)") }, "\(lines) against \(commit)")
        #expect(lines.contains { $0.hasPrefix("swift 6.") })
        let tool = try #require(lines.first { $0.hasPrefix("postgres: pg_dump ") }, "\(lines)")
        let version = try await Shell.run(Paths.pgTool("pg_dump"), ["--version"])
        let found = try #require(version.stdout.split(separator: " ").dropFirst(2).first)
        #expect(lines.contains { $0.hasPrefix("postgres: pg_dump \(found.trimmingCharacters(in: .whitespacesAndNewlines)) at ") }, "\(tool)")
        // Without --version, the root command shows its help, and exits 0.
        let bare = try await Shell.run(Paths.backup, [])
        #expect(bare.status == 0 && bare.stdout.contains("SUBCOMMANDS"), "\(bare.stdout)")
    }

    /// Each manifest says which release wrote it, as `--version` names it.
    @Test func theManifestNamesTheReleaseThatWroteIt() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("written_by", rows: 5)
        let cli = try await BackupCLI(label: "written-by", config: { server.config(database: "written_by", directory: $0) })
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let version = try await Shell.run(Paths.backup, ["--version"]).stdout.split(separator: "\n").map(String.init)
        let release = try #require(version.first)
        let commit = try #require(version.dropFirst().first?.split(separator: " ").dropFirst().first)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        #expect(try cli.manifest(of: file).writtenBy == "\(release) (commit \(commit))")
        #expect(try await cli.listed().first?["written_by"] as? String == "\(release) (commit \(commit))")
    }
}

/// A mistyped command is named, with the nearest commands, and exit status 64 (it said "Unknown option
/// '--config'" before); an unknown word gets no guess.
@Suite struct MistypedCommandTests {
    @Test(arguments: [
        (["restor", "--config", "x"], "backup: unknown command 'restor'; did you mean restore?"),
        (["stauts"], "backup: unknown command 'stauts'; did you mean status?"),
        (["frobnicate"], "backup: unknown command 'frobnicate' (`backup --help` lists them)"),
    ])
    func aMistypedCommandIsNamed(arguments: [String], expected: String) async throws {
        let result = try await Shell.run(Paths.backup, arguments)
        #expect(result.status == 64 && result.stderr.contains(expected), "\(result.stderr)")
    }
}
