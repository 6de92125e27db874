import Engine
import Foundation
import Testing
import TestSupport

/// Every way a backup can fail gets one clear error and a non-zero exit, leaves no partial file, and keeps
/// the earlier backup intact. Each test first makes a good backup, then breaks one thing and runs again.
@Suite struct FailureTests {
    /// A job with one good backup already made; `rerun` runs `backup now` again with a changed config.
    struct Scenario {
        let cli: BackupCLI
        let database: String
        let goodBackup: String
        let goodSum: String
        /// Every file the good backup consists of (data, manifest, globals).
        let goodFiles: [String]

        static func make(_ label: String, rows: Int = 2000, extra: String = "compressor = none") async throws -> Scenario {
            let server = try await PostgresServer.shared
            let database = "fail_\(label)"
            try await server.makeSampleDatabase(database, rows: rows)
            let cli = try await BackupCLI(label: label) { server.config(database: database, directory: $0, extra: extra) }
            let first = try await cli.run("now")
            #expect(first.status == 0, "the first backup should succeed: \(first.stderr)")
            let good = try #require(try cli.files().first { $0.hasSuffix(".sql") })
            return Scenario(cli: cli, database: database, goodBackup: good, goodSum: try await sha256(cli, good),
                            goodFiles: try cli.allFiles())
        }

        static func sha256(_ cli: BackupCLI, _ file: String) async throws -> String {
            String(try await Shell.sh("sha256sum '\(cli.backups)/\(file)'").stdout.prefix(64))
        }

        /// Rewrites the config with `change` applied and runs `backup now`.
        func rerun(environment: [String: String] = [:], _ change: (String) -> String) async throws -> Shell.Result {
            let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
            try change(config).write(toFile: cli.configPath, atomically: true, encoding: .utf8)
            var runner = cli
            runner.environment.merge(environment) { $1 }
            return try await runner.run("now")
        }

        /// The failure was loud, named the job, said `expected`, and left the directory as it was.
        func expectSafeFailure(_ result: Shell.Result, saying expected: String,
                               sourceLocation: SourceLocation = #_sourceLocation) async throws {
            #expect(result.status == 1, "exit status", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(expected), "stderr lacks '\(expected)': \(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains("backup failed for job: app"), sourceLocation: sourceLocation)
            #expect(!result.stderr.contains(PostgresServer.passwordForTests), sourceLocation: sourceLocation)
            let files = try cli.allFiles()
            // The good backup's three files, the job's (empty, unlocked) lock file and its run record.
            #expect(files == goodFiles && files.filter { !$0.hasPrefix(".") }.count == 3
                    && files.filter { $0.hasPrefix(".") } == [".app.lock", ".app.runs.json"], "left behind: \(files)",
                    sourceLocation: sourceLocation)
            #expect(try await Self.sha256(cli, goodBackup) == goodSum, "the earlier backup changed", sourceLocation: sourceLocation)
        }

        /// Makes the job run a `pg_dump` stand-in that executes `body` (see ``FakePgDump``).
        func usePgDumpStandIn(_ body: String) throws {
            let wrapper = try FakePgDump.write(in: cli.directory, body: body)
            try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "\npostgres.pg_dump = \(wrapper)\n")
                .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        }

        /// Waits until the run started in the background is mid-backup: its partial file exists and, with a
        /// hanging stand-in (``FakePgDump/hang``), the stand-in hangs.
        func waitMidBackup(standInHangs: Bool = true) async throws {
            try await waitUntil("a partial file in \(cli.backups)") { try cli.allFiles().contains { $0.hasSuffix(".partial") } }
            guard standInHangs else { return }
            try await waitUntil("the pg_dump stand-in to hang") { !FakePgDump.hanging(in: cli.directory).isEmpty }
        }

        func cleanUp() { cli.cleanUp() }
    }

    @Test func closedPortFailsFast() async throws {
        let s = try await Scenario.make("closedport")
        defer { s.cleanUp() }
        let port = try FreePort.closed()
        let result = try await s.rerun { $0.replacingOccurrences(of: "postgres.port = ", with: "postgres.port = \(port)\n#") }
        try await s.expectSafeFailure(result, saying: "cannot reach PostgreSQL at 127.0.0.1:\(port) (connection refused)")
    }

    /// A host name that does not resolve fails at once, and is said as such, not as a timeout.
    @Test func anUnresolvableHostIsNamedAsSuch() async throws {
        let s = try await Scenario.make("nodns")
        defer { s.cleanUp() }
        let result = try await s.rerun { $0.replacingOccurrences(of: "postgres.host = 127.0.0.1", with: "postgres.host = no-such-host.invalid") }
        try await s.expectSafeFailure(result, saying: "cannot reach PostgreSQL at no-such-host.invalid:")
        #expect(result.stderr.contains("(the host name does not resolve)") && !result.stderr.contains("within"), "\(result.stderr)")
    }

    /// A server that accepts the TCP connection but never answers: the connect timeout must end it.
    @Test func silentServerTimesOut() async throws {
        let s = try await Scenario.make("silent")
        defer { s.cleanUp() }
        let listener = try FreePort.silentListener()
        defer { close(listener.fd) }
        let result = try await s.rerun {
            $0.replacingOccurrences(of: "postgres.port = ", with: "postgres.connect_timeout = 2s\npostgres.port = \(listener.port)\n#")
        }
        try await s.expectSafeFailure(result, saying: "within 2s")
        // libpq's own words: the timeout fired. The bound only tells a fired timeout from a hang (the
        // listener never answers); its margin is for a machine busy with other work.
        #expect(result.stderr.contains("timeout expired"), "\(result.stderr)")
        #expect(result.seconds < 60, "took \(result.seconds)s despite a 2s connect timeout")
    }

    @Test func wrongPasswordIsRefused() async throws {
        let s = try await Scenario.make("password")
        defer { s.cleanUp() }
        let wrong = "Wrong-Pass-71zz"
        let result = try await s.rerun(environment: ["TEST_PGPASSWORD": wrong]) { $0 }
        try await s.expectSafeFailure(result, saying: "refused user backup")
        #expect(!result.stderr.contains(wrong))
    }

    @Test func missingDatabaseIsNamed() async throws {
        let s = try await Scenario.make("nodb")
        defer { s.cleanUp() }
        let result = try await s.rerun { $0.replacingOccurrences(of: "postgres.database = \(s.database)", with: "postgres.database = no_such_db") }
        try await s.expectSafeFailure(result, saying: "database no_such_db does not exist")
    }

    @Test func missingDestinationIsNamed() async throws {
        let s = try await Scenario.make("nodest")
        defer { s.cleanUp() }
        let missing = s.cli.directory + "/not-mounted"
        let result = try await s.rerun { $0.replacingOccurrences(of: "local.path = \(s.cli.backups)", with: "local.path = \(missing)") }
        try await s.expectSafeFailure(result, saying: "local.path \(missing) does not exist")
    }

    /// Root ignores permission bits, so a read-only mount is the honest way to make a directory unwritable.
    @Test func readOnlyDestinationIsRefused() async throws {
        let s = try await Scenario.make("readonly")
        defer { s.cleanUp() }
        let mount = s.cli.directory + "/ro"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        try #require(try await Shell.sh("mount -t tmpfs -o size=1m,ro tmpfs '\(mount)'").status == 0, "mount needs root")
        defer { _ = system("umount '\(mount)'") }
        let result = try await s.rerun { $0.replacingOccurrences(of: "local.path = \(s.cli.backups)", with: "local.path = \(mount)") }
        try await s.expectSafeFailure(result, saying: "local.path \(mount) is not writable")
    }

    /// The volume fills up mid-backup: the partial file goes, the earlier backup on the same volume stays.
    @Test func fullDestinationKeepsEarlierBackup() async throws {
        let server = try await PostgresServer.shared
        let database = "fail_full"
        try await server.makeSampleDatabase(database, rows: 20)
        let cli = try await BackupCLI(label: "full") { server.config(database: database, directory: $0, extra: "compressor = none") }
        defer { cli.cleanUp() }
        try #require(try await Shell.sh("mount -t tmpfs -o size=1m tmpfs '\(cli.backups)'").status == 0, "mount needs root")
        defer { _ = system("umount '\(cli.backups)'") }
        #expect(try await cli.run("now").status == 0)
        let good = try #require(try cli.files().first { $0.hasSuffix(".sql") })
        let s = Scenario(cli: cli, database: database, goodBackup: good, goodSum: try await Scenario.sha256(cli, good),
                         goodFiles: try cli.allFiles())
        // About 3 MB of incompressible rows: three times the volume.
        try await server.psql("INSERT INTO customers (name, note) SELECT 'big', md5(g::text) || repeat(md5((g * 7)::text), 40) FROM generate_series(1, 2200) g", database: database)
        let result = try await s.rerun { $0 }
        try await s.expectSafeFailure(result, saying: "no space left")
    }

    /// pg_dump killed mid-stream (here by a wrapper that kills itself after 100 kB): nothing is published.
    @Test func pgDumpKilledMidStream() async throws {
        let s = try await Scenario.make("killed")
        defer { s.cleanUp() }
        let wrapper = try FakePgDump.write(in: s.cli.directory, body: """
            /usr/bin/pg_dump "$@" | head -c 100000
            kill -9 $$
            """)
        let result = try await s.rerun { $0 + "\npostgres.pg_dump = \(wrapper)\n" }
        try await s.expectSafeFailure(result, saying: "pg_dump was killed by signal 9")
    }

    /// A real pg_dump failure: the backup role cannot read one table.
    @Test func pgDumpPermissionDenied() async throws {
        let s = try await Scenario.make("denied")
        defer { s.cleanUp() }
        try await PostgresServer.shared.psql("CREATE TABLE secret_table (x int); INSERT INTO secret_table VALUES (1)", database: s.database)
        let result = try await s.rerun { $0 }
        try await s.expectSafeFailure(result, saying: "pg_dump exited with status 1")
        #expect(result.stderr.contains("permission denied"))
    }

    /// SIGTERM mid-backup (a pod being stopped): pg_dump is stopped, the partial file removed, exit 143.
    @Test func sigtermMidBackupLeavesNothingPartial() async throws {
        let s = try await Scenario.make("sigterm")
        defer { s.cleanUp() }
        try s.usePgDumpStandIn("""
            /usr/bin/pg_dump "$@" | head -c 50000
            \(FakePgDump.hang)
            """)
        defer { FakePgDump.endStandIn(in: s.cli.directory) }
        let run = try await Background.backup(s.cli, "now")
        defer { run.end() }
        try await s.waitMidBackup()
        let (result, took) = try await run.stop(SIGTERM)
        #expect(result.status == 143, "\(result.stderr)")
        // About 3 s (pg_dump's SIGTERM grace, then SIGKILL); the margin is for a busy machine, the bound
        // tells that from the stand-in, which sleeps until killed.
        #expect(took < FakePgDump.graceBound, "SIGTERM to exit took \(took)")
        #expect(result.stderr.contains("interrupted by signal 15"))
        #expect(result.stderr.contains("backup interrupted by a signal") && !result.stderr.contains("CancellationError"),
                "a signal is logged as an interruption: \(result.stderr)")
        let files = try s.cli.allFiles()
        #expect(files == s.goodFiles, "left behind: \(files)")
        #expect(!FakePgDump.endStandIn(in: s.cli.directory), "the pg_dump stand-in was still running")
    }

    /// Two `backup now` of one job at once: the second is refused at once, naming the first's pid.
    @Test func concurrentRunsOfOneJobAreRefused() async throws {
        let s = try await Scenario.make("concurrent")
        defer { s.cleanUp() }
        try s.usePgDumpStandIn("""
            /usr/bin/pg_dump "$@" | head -c 50000
            \(FakePgDump.hang)
            """)
        defer { FakePgDump.endStandIn(in: s.cli.directory) }
        let first = try await Background.backup(s.cli, "now")
        defer { first.end() }
        try await s.waitMidBackup()
        let second = try await s.cli.run("now")
        #expect(second.stderr.contains("job app is already running (pid \(first.pid) holds"), "\(second.stderr)")
        let (firstResult, _) = try await first.stop(SIGTERM)
        #expect(firstResult.status == 143, "\(firstResult.stderr)")
        // The second run's own result: refused, pointing at --wait, and the first one's partial file gone.
        try await s.expectSafeFailure(second, saying: "--wait")
    }

    /// `--wait` waits for the running backup of the job instead of failing, then makes its own.
    @Test func waitQueuesBehindTheRunningBackup() async throws {
        let s = try await Scenario.make("wait")
        defer { s.cleanUp() }
        // Each dump notes its start in `dumps`, then waits (at most 120 s) for the test to create `release`:
        // the first run holds the lock, its partial file there, for as long as the test needs, however busy
        // the machine (a fixed pause was too short when the test's own polling was starved of a thread).
        let release = "\(s.cli.directory)/release", dumps = "\(s.cli.directory)/dumps"
        try s.usePgDumpStandIn("""
            echo $$ >> \(Shell.quote(dumps))
            /usr/bin/pg_dump "$@" || exit $?
            i=0; while [ ! -e \(Shell.quote(release)) ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
            """)
        let first = try await Background.backup(s.cli, "now")
        defer { first.end() }
        try await s.waitMidBackup(standInHangs: false)
        let second = try await Background.backup(s.cli, "now", "--wait")
        defer { second.end() }
        // The second run has the job's lock file open while the first holds it, and has not started a dump.
        try await waitUntil("the second run to open the lock file") {
            Processes.openFiles(second.pid).contains { $0.hasSuffix("/.app.lock") }
        }
        try await Task.sleep(for: .seconds(1))
        #expect(Processes.isRunning(second.pid), "the second run did not wait")
        #expect(Self.lines(dumps) == 1, "the second run dumped while the first held the lock")
        FileManager.default.createFile(atPath: release, contents: nil)
        let (secondResult, firstResult) = (try await second.result(), try await first.result())
        #expect(secondResult.status == 0 && firstResult.status == 0, "\(secondResult.stderr) \(firstResult.stderr)")
        #expect(Self.lines(dumps) == 2)
        #expect(try await s.cli.listed().count == 3)
    }

    static func lines(_ path: String) -> Int {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    /// SIGTERM to `backup run` while it backs up: that backup is stopped and removed, exit 143.
    @Test func sigtermToTheDaemonMidBackup() async throws {
        let s = try await Scenario.make("daemonterm")
        defer { s.cleanUp() }
        try s.usePgDumpStandIn("""
            /usr/bin/pg_dump "$@" | head -c 50000
            \(FakePgDump.hang)
            """)
        defer { FakePgDump.endStandIn(in: s.cli.directory) }
        let daemon = try await Background.backup(s.cli, "run")
        defer { daemon.end() }
        try await s.waitMidBackup()
        let (result, took) = try await daemon.stop(SIGTERM)
        #expect(result.status == 143, "\(result.stderr)")
        // The same grace as `backup now`'s (pg_dump's 3 s, then SIGKILL), with the same margin.
        #expect(took < FakePgDump.graceBound, "SIGTERM to exit took \(took)")
        #expect(result.stderr.contains("the backup in progress was stopped and removed"))
        #expect(try s.cli.allFiles() == s.goodFiles)
        #expect(!FakePgDump.endStandIn(in: s.cli.directory), "the pg_dump stand-in was still running")
    }

    /// SIGKILL mid-backup leaves a partial file and a stale lock; the next run cleans both up and says so.
    @Test func sigkillMidBackupThenACleanRun() async throws {
        let s = try await Scenario.make("sigkill")
        defer { s.cleanUp() }
        let original = try String(contentsOfFile: s.cli.configPath, encoding: .utf8)
        try s.usePgDumpStandIn("""
            /usr/bin/pg_dump "$@" | head -c 50000
            \(FakePgDump.hang)
            """)
        defer { FakePgDump.endStandIn(in: s.cli.directory) }
        let run = try await Background.backup(s.cli, "now")
        defer { run.end() }
        try await s.waitMidBackup()
        let (killed, _) = try await run.stop(SIGKILL)
        #expect(killed.status == 137)
        // A SIGKILL leaves the stand-in orphaned: the test ends it, by its pid.
        FakePgDump.endStandIn(in: s.cli.directory)
        let pid = run.pid
        #expect(try s.cli.allFiles().contains { $0.hasSuffix(".partial") }, "SIGKILL leaves the partial file")

        try original.write(toFile: s.cli.configPath, atomically: true, encoding: .utf8)
        let next = try await s.cli.run("now")
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("took over the job's lock from pid \(pid)"), "\(next.stderr)")
        #expect(next.stderr.contains("removed what an interrupted run left behind: .app_"))
        let files = try s.cli.allFiles()
        #expect(!files.contains { $0.hasSuffix(".partial") })
        #expect(files.filter { !$0.hasPrefix(".") }.count == 6 && Set(files).isSuperset(of: s.goodFiles), "\(files)")
    }

    @Test func tooOldPgDumpIsRefused() async throws {
        let s = try await Scenario.make("oldtool")
        defer { s.cleanUp() }
        let wrapper = try FakePgDump.write(in: s.cli.directory, version: "14.0", body: "exit 0")
        let result = try await s.rerun { $0 + "\npostgres.pg_dump = \(wrapper)\n" }
        try await s.expectSafeFailure(result, saying: "is version 14.0 but the server is PostgreSQL 15; use pg_dump 15 or newer")
    }

    /// The password reaches pg_dump through its environment only: never its arguments (what `ps` shows).
    @Test func passwordNeverInArgumentsOrLogs() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("secret_args", rows: 10)
        let cli = try await BackupCLI(label: "args") { server.config(database: "secret_args", directory: $0) }
        defer { cli.cleanUp() }
        let wrapper = try FakePgDump.write(in: cli.directory, body: """
            echo "$@" > "$(dirname "$0")/arguments"
            env > "$(dirname "$0")/environment"
            exec /usr/bin/pg_dump "$@"
            """)
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "\npostgres.pg_dump = \(wrapper)\n")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let result = try await cli.run("now", "--log-level", "trace")
        #expect(result.status == 0, "\(result.stderr)")
        let arguments = try String(contentsOfFile: "\(cli.directory)/arguments", encoding: .utf8)
        #expect(arguments.contains("--username backup") && arguments.contains("secret_args"))
        #expect(!arguments.contains(server.password))
        // pg_dump's environment names a password file that lives only in the backup process's memory.
        let environment = try String(contentsOfFile: "\(cli.directory)/environment", encoding: .utf8)
        #expect(!environment.contains(server.password), "the password is in pg_dump's environment")
        #expect(environment.contains("PGPASSFILE=/proc/") && !environment.contains("\nPGPASSWORD="), "\(environment)")
        #expect(!result.stderr.contains(server.password) && !result.stdout.contains(server.password))
        let written = try await Shell.sh("grep -rl '\(server.password)' '\(cli.directory)' 2>/dev/null || true")
        #expect(written.stdout.isEmpty, "the password was written to \(written.stdout)")
        let checked = try await cli.run("check-config")
        #expect(checked.status == 0 && checked.stdout.contains("<redacted>") && !checked.stdout.contains(server.password))
    }
}
