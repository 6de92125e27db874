import Engine
import Foundation
import Testing
import TestSupport

/// A database name is only ever a name: one that reads like a connection string backs up, verifies and
/// restores as itself, and nothing connects to the host it names.
@Suite struct ConnectionTargetTests {
    @Test func aDatabaseNameIsNeverAConnectionString() async throws {
        let server = try await PostgresServer.shared
        let listener = try FreePort.silentListener()
        defer { close(listener.fd) }
        let names = ["dbname=postgres host=127.0.0.1 port=\(listener.port)", "a=b"]
        for (index, name) in names.enumerated() {
            let quoted = "\"\(name)\""
            try await server.psql("CREATE DATABASE \(quoted) OWNER \(server.user)")
            try await server.psql("SET ROLE \(server.user); CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2), (3)",
                                  database: "dbname='\(name)'")
            let cli = try await BackupCLI(label: "conninfo-\(index)") {
                server.config(job: "j\(index)", database: "'\(name)'", directory: $0)
            }
            defer { cli.cleanUp() }
            let made = try await cli.run("now")
            #expect(made.status == 0, "\(made.stderr)")
            let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
            #expect(try cli.manifest(of: file).database == name)
            let verified = try await cli.run("verify")
            #expect(verified.status == 0 && verified.stdout.contains("1 of 1 tables match"), "\(verified.stdout) \(verified.stderr)")
            let restored = try await cli.run("restore", "--to-database", "conninfo_copy_\(index)")
            #expect(restored.status == 0 && restored.stdout.contains("1 tables, 3 rows"), "\(restored.stdout) \(restored.stderr)")
        }
        #expect(FreePort.pendingConnections(listener.fd) == 0, "something connected to the port a database name named")
    }
}

/// Links planted in the backup volume at every name the engine creates (by anyone who can write there,
/// such as another pod) never make it write through them: it refuses, naming the link, or replaces the link
/// itself; the file a link points at is never touched.
@Suite struct PlantedLinkTests {
    @Test func linksAtOurNamesLeaveTheirTargetsAlone() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("hard_links", rows: 50)
        let cli = try await BackupCLI(label: "links") { server.config(database: "hard_links", directory: $0, extra: "verify = after-backup") }
        defer { cli.cleanUp() }
        let victim = "\(cli.directory)/victim.txt"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        func victimIntact() throws -> Bool { try String(contentsOfFile: victim, encoding: .utf8) == "precious\n" }
        var planted: [String] = []
        func plant(_ names: [String]) {
            for name in names {
                #expect(symlink(victim, cli.path(name)) == 0, "cannot plant a link at \(name): \(String(cString: strerror(errno)))")
                planted.append(name)
            }
        }
        func unplant() { planted.forEach { unlink(cli.path($0)) }; planted = [] }
        func isLink(_ name: String) -> Bool {
            var info = stat()
            return lstat(cli.path(name), &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
        }
        let original = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        /// The next run's pg_dump (a stand-in) plants a link at `.<its backup>SUFFIX` while it dumps: after the
        /// start-up clean-up (which removes leftovers at such names) and before the run writes that name.
        /// Returns where the stand-in notes the name it planted at.
        func plantWhileDumping(_ suffix: String) throws -> String {
            let tool = "\(cli.directory)/tool-\(planted.count)-\(suffix.filter(\.isLetter))"
            try FileManager.default.createDirectory(atPath: tool, withIntermediateDirectories: true)
            let backups = Shell.quote(cli.backups)
            let standIn = try FakePgDump.write(in: tool, body: """
                for i in $(seq 1 1200); do
                    partial=$(ls -A \(backups) | grep -E '^[.]app_[0-9TZ]+[.]sql[.]gz[.]partial$' | head -1)
                    [ -n "$partial" ] && break; sleep 0.1
                done
                name=${partial#.}; name=${name%.partial}
                [ -n "$name" ] && ln -s \(Shell.quote(victim)) \(backups)/".$name\(suffix)" && echo ".$name\(suffix)" > '\(tool)/planted'
                exec /usr/bin/pg_dump "$@"
                """)
            try (original + "\npostgres.pg_dump = \(standIn)\n").write(toFile: cli.configPath, atomically: true, encoding: .utf8)
            return "\(tool)/planted"
        }

        plant([".app.lock"])
        let locked = try await cli.run("now")
        #expect(locked.status == 1 && locked.stderr.contains("\(cli.backups)/.app.lock is a symbolic link where the backup expects a file of its own"),
                "\(locked.stderr)")
        #expect(try victimIntact())
        unplant()

        // A link at the name the manifest's rewrite (verify = after-backup) writes first: replaced by it.
        let replacing = try plantWhileDumping(".manifest.json.replacing")
        let marked = try await cli.run("now")
        #expect(marked.status == 0, "\(marked.stderr)")
        #expect(try victimIntact())
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        let metReplacing = try String(contentsOfFile: replacing, encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(metReplacing == ".\(file).manifest.json.replacing" && !isLink(metReplacing), "the link at \(metReplacing) was not met")
        var info = stat()
        #expect(lstat(cli.path(file + Manifest.suffix), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG)
        #expect(try cli.manifest(of: file).verification == "passed")

        // A link at the name a sidecar is written under: the run refuses, naming it, and publishes nothing.
        let sidecar = try plantWhileDumping(".globals.json.partial")
        let refused = try await cli.run("now")
        let metSidecar = try String(contentsOfFile: sidecar, encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(refused.status == 1 && refused.stderr.contains("\(cli.path(metSidecar)) is a symbolic link where the backup expects a file of its own"),
                "\(metSidecar): \(refused.stderr)")
        #expect(try victimIntact())
        #expect(try await cli.listed().count == 1)
        try original.write(toFile: cli.configPath, atomically: true, encoding: .utf8)

        // Links at the names of partial files look like an interrupted run's leftovers: removed (unlink
        // removes the link, not its target), then the backup is written as usual.
        let someBackups = (0..<3).map { "app_\(Timestamp.compact(Date().addingTimeInterval(Double($0) - 3600))).sql.gz" }
        plant(someBackups.flatMap { [".\($0).partial", ".\($0).globals.json.partial", ".\($0).manifest.json.partial"] })
        let partial = try await cli.run("now")
        #expect(partial.status == 0 && partial.stderr.contains("removed what an interrupted run left behind"), "\(partial.stderr)")
        #expect(planted.count(where: isLink) == 0 && !isLink(metSidecar), "every link at a partial file's name was met and removed")
        #expect(try victimIntact())
        #expect(try cli.allFiles().filter { $0.hasSuffix(".partial") }.isEmpty)
        planted = []

        // Reading follows no link either: a manifest swapped for one is refused, not read through.
        let manifestPath = cli.path(file + Manifest.suffix)
        try FileManager.default.moveItem(atPath: manifestPath, toPath: manifestPath + ".real")
        #expect(symlink(manifestPath + ".real", manifestPath) == 0)
        let restore = try await cli.run("restore", "--backup", cli.path(file), "--to-database", "hard_links_copy")
        #expect(restore.status == 1 && restore.stderr.contains("is a symbolic link"), "\(restore.stderr)")
        #expect(try await cli.listed().map { $0["file"] as? String }.contains(file) == false,
                "a backup whose manifest is a link is not listed as one")
    }
}

/// A backup killed with SIGKILL at any instant (at each rename of the publish, while retention deletes,
/// and at random moments) leaves, after the next run, only whole backups and nothing else.
@Suite struct KillLoopTests {
    @Test func killedAtAnyInstantLeavesOnlyWholeBackups() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("hard_kill", rows: 3000)
        let cli = try await BackupCLI(label: "kill") { server.config(database: "hard_kill", directory: $0, extra: "count.keep = 2") }
        defer { cli.cleanUp() }
        for _ in 0..<3 { #expect(try await cli.run("now").status == 0) }
        let points = ["local.before-sidecar:.globals.json", "local.after-sidecar:.globals.json",
                      "local.before-sidecar:.manifest.json", "local.after-sidecar:.manifest.json",
                      "local.after-data", "retention.after-data"]
        /// The next run cleans up, and then only whole backups are there, the newest two.
        func expectOnlyWholeBackups(_ context: String) async throws {
            let clean = try await cli.run("now")
            #expect(clean.status == 0, "\(context): \(clean.stderr)")
            let problems = try await cli.listedProblems()
            #expect(problems.isEmpty, "\(context): \(problems)")
            let all = try cli.allFiles()
            #expect(all.filter { $0.hasPrefix(".") } == [".app.lock", ".app.runs.json"], "\(context): \(all)")
            let backups = try await cli.listed().compactMap { $0["file"] as? String }
            #expect(backups.count == 2, "\(context): \(backups)")
            #expect(Set(try cli.files()) == Set(backups.flatMap { [$0, $0 + ".globals.json", $0 + Manifest.suffix] }), "\(context)")
        }
        for point in points {
            var crashing = cli
            crashing.environment["BACKUP_TEST_CRASH_AT"] = point
            let killed = try await crashing.run("now")
            #expect(killed.status == 137, "\(point): \(killed.status) \(killed.stderr)")
        }
        try await expectOnlyWholeBackups("after the crash points")
        // Then at random instants, from before pg_dump starts to after the backup is published, each round
        // followed by its check. Seeded: a failure names its seed, and BACKUP_TEST_KILL_SEED replays it.
        let seed = ProcessInfo.processInfo.environment["BACKUP_TEST_KILL_SEED"].flatMap { UInt64($0) } ?? .random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        var landed = 0
        for round in 0..<6 {
            let delay = round == 0 ? 0 : Double.random(in: 0...0.8, using: &random)
            let run = try await Background.backup(cli, "now")
            defer { run.end() }
            try await Task.sleep(for: .seconds(delay))
            let (killed, _) = try await run.stop(SIGKILL)
            // Killed (137), or done before the kill came (0); nothing else.
            #expect(killed.status == 137 || killed.status == 0, "seed \(seed), round \(round): \(killed.status) \(killed.stderr)")
            if killed.status == 137 { landed += 1 }
            try await expectOnlyWholeBackups("seed \(seed), round \(round) (killed after \(delay) s)")
        }
        #expect(landed >= 1, "no kill landed mid-run (seed \(seed))")
        let checked = try await cli.run("verify", "--checksums-only", "--backup", "all")
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")
    }
}

/// A seeded random number generator (SplitMix64), so a random schedule can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Jobs whose names prefix each other (`x` and `x_20260101T000000Z`) share a directory without touching
/// each other's uploads, leftovers, backups or retention.
@Suite struct PrefixJobTests {
    @Test func prefixNamedJobsDoNotInterfere() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("hard_prefix", rows: 20)
        let other = "x_20260101T000000Z"
        let cli = try await BackupCLI(label: "prefix") { directory in
            server.config(job: "x", database: "hard_prefix", directory: directory, extra: "count.keep = 1")
                + "\n[\(other)]\npostgres.database = hard_prefix\ncount.keep = 1\n"
        }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now", "--job", other).status == 0)
        // The other job's upload in progress, and a sidecar its interrupted run left.
        let upload = ".\(other)_20261202T000000Z.sql.gz.partial"
        let orphan = "\(other)_20261201T000000Z.sql.gz.globals.json"
        for name in [upload, orphan] { try "theirs\n".write(toFile: cli.path(name), atomically: false, encoding: .utf8) }
        for _ in 0..<2 { #expect(try await cli.run("now", "--job", "x").status == 0) }
        #expect(FileManager.default.fileExists(atPath: cli.path(upload)), "x removed the other job's upload")
        #expect(FileManager.default.fileExists(atPath: cli.path(orphan)), "x removed the other job's leftover")
        let listed = try await cli.listed()
        #expect(listed.filter { $0["job"] as? String == "x" }.count == 1)
        #expect(listed.filter { $0["job"] as? String == other }.count == 1)
        #expect(try await cli.listedProblems().map { $0["file"] as? String } == [orphan])
    }
}

/// Retention counts only backups it can prove: with the three newest damaged (cut short, one bit flipped,
/// one replaced by another job's file), it keeps the good older ones in their place and deletes none of
/// the damaged ones; `prune --dry-run` says why.
@Suite struct DamagedRetentionTests {
    @Test func damagedBackupsDoNotCountTowardWhatIsKept() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("hard_damaged", rows: 200)
        let cli = try await BackupCLI(label: "damaged") {
            server.config(database: "hard_damaged", directory: $0, extra: "count.keep = 10\nretention.check = checksum\ncompressor = none")
        }
        defer { cli.cleanUp() }
        for _ in 0..<6 { #expect(try await cli.run("now").status == 0) }
        let made = try await cli.listed().compactMap { $0["file"] as? String }.sorted()
        try #require(made.count == 6)
        let good = Array(made.prefix(3))
        let truncated = cli.path(made[3]), flipped = cli.path(made[4]), replaced = cli.path(made[5])
        #expect(truncate(truncated, 100) == 0)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: flipped)))
        bytes[bytes.count / 2] ^= 0x04
        try Data(bytes).write(to: URL(fileURLWithPath: flipped))
        try FileManager.default.removeItem(atPath: replaced)
        try FileManager.default.copyItem(atPath: "\(Paths.root)/README.md", toPath: replaced)
        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "count.keep = 10", with: "count.keep = 3").write(toFile: cli.configPath, atomically: true, encoding: .utf8)

        let dryRun = try await cli.run("prune", "--dry-run")
        #expect(dryRun.status == 0 && dryRun.stdout.contains("6 to keep, 0 to delete"), "\(dryRun.stdout)")
        #expect(dryRun.stdout.contains("\(made[3])  (damaged: stored size 100 bytes differs from the manifest's"), "\(dryRun.stdout)")
        #expect(dryRun.stdout.contains("\(made[4])  (damaged: its SHA-256 does not match the manifest's"), "\(dryRun.stdout)")
        #expect(try await cli.run("prune").status == 0)
        #expect(Set(try cli.files()).isSuperset(of: made))

        let next = try await cli.run("now")
        #expect(next.status == 0, "\(next.stderr)")
        let files = Set(try cli.files())
        #expect(!files.contains(good[0]), "count.keep = 3 keeps the new backup and the two newest good ones")
        #expect(files.isSuperset(of: [good[1], good[2], made[3], made[4], made[5]]))
        for name in [good[1], good[2]] {
            let verified = try await cli.run("verify", "--backup", name)
            #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        }
    }
}

/// What is in the job's area but not a whole backup is reported by `list` and `verify --backup all`; the
/// start-up clean-up removes only what an interrupted run of this job provably left.
@Suite struct CatalogProblemTests {
    @Test func brokenBackupsAreReportedAndOnlyLeftoversRemoved() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("hard_problems", rows: 20)
        let cli = try await BackupCLI(label: "problems") { server.config(database: "hard_problems", directory: $0) }
        defer { cli.cleanUp() }
        for _ in 0..<3 { #expect(try await cli.run("now").status == 0) }
        let made = try await cli.listed().compactMap { $0["file"] as? String }.sorted()
        try FileManager.default.removeItem(atPath: cli.path(made[1] + Manifest.suffix))
        #expect(truncate(cli.path(made[2] + Manifest.suffix), 20) == 0)
        try FileManager.default.removeItem(atPath: cli.path(made[0]))
        let result = try await cli.run("list", "--json")
        #expect(result.stderr.contains("warning: job app: \(made[1]) has no manifest"), "\(result.stderr)")
        #expect(result.stderr.contains("the manifest of \(made[2]) is unreadable"), "\(result.stderr)")
        #expect(result.stderr.contains("\(made[0]).globals.json has no backup \(made[0]) beside it"), "\(result.stderr)")
        #expect(try await cli.listedProblems().count == 4, "two sidecars without their backup, two backups without a manifest")
        let verify = try await cli.run("verify", "--checksums-only", "--backup", "all")
        #expect(verify.status == 1 && verify.stdout.contains("\(made[1]): NOT A WHOLE BACKUP"), "\(verify.stdout)")
        let cleaned = try await cli.run("now")
        #expect(cleaned.status == 0 && cleaned.stderr.contains("removed what an interrupted run left behind"), "\(cleaned.stderr)")
        let files = Set(try cli.files())
        #expect(!files.contains(made[0] + Manifest.suffix) && !files.contains(made[0] + ".globals.json"), "the leftovers go")
        #expect(files.isSuperset(of: [made[1], made[2], made[2] + Manifest.suffix]), "what needs a person's look stays")
    }
}

/// A server that stops answering in the middle of a dump (SIGSTOP) fails the backup within
/// `postgres.stall_timeout`, leaving nothing partial; under `backup run`, the other job keeps its schedule
/// meanwhile.
@Suite struct StallTests {
    /// A cluster of its own (stopping it must not stop other tests), with a table that a session of the
    /// test's keeps locked, so pg_dump waits on the server however fast or loaded the machine is.
    static func hangableCluster() async throws -> FreshCluster {
        let cluster = try await FreshCluster.start(superuser: "postgres")
        try await cluster.psql("CREATE DATABASE stall")
        try await cluster.psql("CREATE TABLE big AS SELECT g, md5(g::text) AS filler FROM generate_series(1, 1000) g", database: "stall")
        let environment = cluster.environment
        Task {
            // Ends when the cluster stops; the lock holds until then.
            try await FreshCluster.psql("BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600)",
                                        database: "stall", environment: environment)
        }
        do {
            try await waitUntil("the test's session to lock the table") {
                try await cluster.psql("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted AND relation = 'big'::regclass",
                                       database: "stall") != "0"
            }
        } catch {
            cluster.stop()
            throw error
        }
        return cluster
    }

    /// Waits until pg_dump waits on the locked table, then stops (SIGSTOP) every process of the cluster.
    static func stopMidDump(_ cluster: FreshCluster) async throws {
        try await waitUntil("pg_dump to wait on the locked table") {
            try await cluster.psql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.application_name = 'backup'") != "0"
        }
        // A short-lived child (the backend of the polling query above) may exit between pgrep and kill;
        // the postmaster and the backend serving pg_dump cannot, so only the postmaster's stop must succeed.
        let stopped = try await Shell.sh("""
            pid=$(head -1 '\(cluster.directory)/data/postmaster.pid'); kill -STOP $pid || exit 1
            for child in $(pgrep -P $pid); do kill -STOP $child 2>/dev/null; done; exit 0
            """)
        #expect(stopped.status == 0, "\(stopped.stderr)")
    }

    static func resume(_ cluster: FreshCluster) async throws {
        _ = try await Shell.sh("pid=$(head -1 '\(cluster.directory)/data/postmaster.pid'); for p in $pid $(pgrep -P $pid); do kill -CONT $p 2>/dev/null; done")
    }

    static func job(_ name: String, on cluster: FreshCluster, stall: String) -> String {
        """
        [\(name)]
        postgres.host = 127.0.0.1
        postgres.port = \(cluster.port)
        postgres.user = postgres
        postgres.password = \(cluster.password)
        postgres.database = stall
        postgres.stall_timeout = \(stall)
        compressor = none
        """
    }

    @Test func aHungServerFailsTheBackupWithinTheStallTimeout() async throws {
        let cluster = try await Self.hangableCluster()
        defer { cluster.stop() }
        let cli = try await BackupCLI(label: "stall") { "local.path = \($0)\n" + Self.job("hung", on: cluster, stall: "3s") }
        defer { cli.cleanUp() }
        let run = Task { try await cli.run("now") }
        try await Self.stopMidDump(cluster)
        let stoppedAt = ContinuousClock.now
        let result = try await run.value
        let waited = ContinuousClock.now - stoppedAt
        try await Self.resume(cluster)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("pg_dump received nothing from 127.0.0.1:\(cluster.port) for 3s while dumping stall, so it was stopped"),
                "\(result.stderr)")
        // The stall timeout is 3 s; the margin is for a loaded machine, the bound for a hang.
        #expect(waited < .seconds(60), "the backup took \(waited) after the server stopped")
        let left = try cli.allFiles()
        #expect(left == [".hung.lock", ".hung.runs.json"], "left behind: \(left)")
    }

    @Test func theDaemonsOtherJobKeepsItsScheduleWhileOneHangs() async throws {
        let cluster = try await Self.hangableCluster()
        defer { cluster.stop() }
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("stall_steady", rows: 20)
        let cli = try await BackupCLI(label: "stall-daemon") { directory in
            """
            parallel = 2
            local.path = \(directory)
            \(Self.job("hung", on: cluster, stall: "30s"))
            interval = 1h

            [steady]
            postgres.host = 127.0.0.1
            postgres.port = \(server.port)
            postgres.user = \(server.user)
            postgres.password = ${TEST_PGPASSWORD}
            postgres.database = stall_steady
            interval = 1s

            """
        }
        defer { cli.cleanUp() }
        let log = "\(cli.directory)/daemon.log"
        let daemon = try await Background.backup(cli, "run", stderrFile: log)
        defer { daemon.end() }
        // The hung job receives nothing from the moment pg_dump waits on the locked table, which is where the
        // stall is counted from: the window starts as soon as that wait is seen (on a loaded machine seeing
        // it, and then stopping the server, can take much of the timeout), and lasts 30 s.
        try await waitUntil("pg_dump to wait on the locked table") {
            try await cluster.psql("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.application_name = 'backup'") != "0"
        }
        // Names, not a count: retention keeps 31, which a busy machine's slow start can reach before this.
        let steadyAtStop = Set(try cli.files().filter { $0.hasPrefix("steady_") && !$0.hasSuffix(".json") })
        try await Self.stopMidDump(cluster)
        let failed: Bool
        do {
            try await waitUntil("the hung job to fail") {
                (try? String(contentsOfFile: log, encoding: .utf8))?.contains("pg_dump received nothing") == true
            }
            failed = true
        } catch {
            failed = false
        }
        let steadyAtFailure = Set(try cli.files().filter { $0.hasPrefix("steady_") && !$0.hasSuffix(".json") })
        try await Self.resume(cluster)
        _ = try await daemon.stop(SIGTERM)
        #expect(failed, "the hung job never failed")
        #expect(!steadyAtFailure.subtracting(steadyAtStop).isEmpty,
                "no backup of the other job while one hung: \(steadyAtStop.sorted()) then \(steadyAtFailure.sorted())")
    }
}
