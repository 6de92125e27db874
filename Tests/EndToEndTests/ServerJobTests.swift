import Engine
import Foundation
import Testing
import TestSupport

/// A job with `postgres.database = *` backs up every database the server has at the start of each run
/// (within its include and exclude patterns), each as a backup of its own, and the server's roles once.
@Suite struct ServerJobTests {
    /// Databases with awkward names, one that allows no connections and one the backup role may not
    /// CONNECT to; `srvx-skip` is excluded by pattern: 12 in all. Names have `srvx` so the include patterns
    /// select them alone on the server the other tests share.
    static let selected = ["srvx app", #"srvx"quote"#, "srvx-ünï", "srvx.dot", "srvx_2", "srvx%pct", "9srvx",
                           "srvx 'single'", "srvx ÜPPER"]

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    @Test(.timeLimit(.minutes(10))) func everyDatabaseTheServerHasIsBackedUpOnItsOwn() async throws {
        let server = try await PostgresServer.shared
        for name in Self.selected + ["srvx-skip", "srvx noconn", "srvx private"] {
            try await server.psql("CREATE DATABASE \(Self.quoted(name)) OWNER \(server.user)")
            try await server.psql("SET ROLE \(server.user); CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)",
                                  database: name)
        }
        try await server.psql("ALTER DATABASE \(Self.quoted("srvx noconn")) ALLOW_CONNECTIONS false")
        try await server.psql("ALTER DATABASE \(Self.quoted("srvx private")) OWNER TO postgres;"
            + " REVOKE CONNECT ON DATABASE \(Self.quoted("srvx private")) FROM PUBLIC")
        let receiver = try await HTTPReceiver.start("ok")
        defer { receiver.stop() }
        let cli = try await BackupCLI(label: "serverjob") {
            server.config(job: "fleet", database: "*", directory: $0, extra: """
                compressor = none
                postgres.include = srvx*, 9srvx
                postgres.exclude = srvx-skip
                notify = webhook
                webhook.url = \(receiver.url)
                """)
        }
        defer { cli.cleanUp() }

        let first = try await cli.run("now")
        // One notification for the run, naming each database and how it fared.
        let body = try #require(try receiver.requests().first?.body)
        #expect(body["status"] as? String == "partial" && body["job"] as? String == "fleet")
        let databases = try #require(body["databases"] as? [[String: Any]])
        #expect(databases.map { $0["database"] as? String ?? "" }.sorted() == (Self.selected + ["srvx private"]).sorted())
        #expect(databases.filter { $0["status"] as? String == "failure" }.map { $0["database"] as? String } == ["srvx private"])
        #expect((body["message"] as? String ?? "").hasPrefix("Backup of fleet (whole server, 10 databases) PARTIAL"),
                "\(body["message"] ?? "")")
        // Partial: every selected database is backed up; the one the role may not connect to fails alone.
        #expect(first.status == 1, "\(first.stderr)")
        #expect(first.stderr.contains("1 of 10 databases failed: srvx private:"), "\(first.stderr)")
        #expect(!first.stderr.contains("srvx noconn") && !first.stderr.contains("srvx-skip"), "\(first.stderr)")
        for name in Self.selected {
            let job = try #require(JobName.forDatabase(name, of: "fleet"))
            let backups = try cli.files().filter { JobName.isBackupFile($0, of: job) }
            #expect(backups.count == 1, "\(name): \((try? cli.files()) ?? [])")
            let manifest = try cli.manifest(of: try #require(backups.first))
            #expect(manifest.database == name && manifest.job == job)
            let text = try String(contentsOfFile: cli.path(backups[0]), encoding: .utf8)
            #expect(text.contains("COPY public.t (id) FROM stdin;\n1\n2\n\\.\n"), "\(name)")
        }
        // The server's roles, once, as data: every role without its password, and the databases the run found.
        let globals = try cli.files().filter { JobName.isBackupFile($0, of: "fleet") }
        #expect(globals.count == 1 && globals[0].hasSuffix(".globals"), "\((try? cli.files()) ?? [])")
        let document = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: cli.path(globals[0])))) as? [String: Any])
        let roles = try #require(document["roles"] as? [[String: Any]])
        #expect(roles.contains { $0["name"] as? String == server.user && $0["createdb"] as? Bool == true })
        #expect(roles.allSatisfy { $0["password"] == nil } && !roles.contains { ($0["name"] as? String)?.hasPrefix("pg_") == true })
        #expect((document["databases"] as? [String])?.sorted() == (Self.selected + ["srvx private"]).sorted())
        // Each database's manifest names the run's roles backup, which `restore --server` restores it with.
        let appJob = try #require(JobName.forDatabase("srvx app", of: "fleet"))
        let appBackup = try #require(try cli.files().first { JobName.isBackupFile($0, of: appJob) })
        #expect(try cli.manifest(of: appBackup).serverRun == globals[0])

        // A database created since is backed up by the next run; the earlier backups stay.
        try await server.psql("CREATE DATABASE \(Self.quoted("srvx new")) OWNER \(server.user)")
        try await server.psql("DROP DATABASE \(Self.quoted("srvx_2"))")
        let second = try await cli.run("now")
        #expect(second.status == 1 && second.stderr.contains("1 of 10 databases failed: srvx private:"),
                "\(second.stderr)")
        let new = try #require(JobName.forDatabase("srvx new", of: "fleet"))
        #expect(try cli.files().filter { JobName.isBackupFile($0, of: new) }.count == 1)
        let dropped = try #require(JobName.forDatabase("srvx_2", of: "fleet"))
        #expect(try cli.files().filter { JobName.isBackupFile($0, of: dropped) }.count == 1)

        // A database's job is named as `list` shows it: listed, and restored to a database equal to it.
        let app = try #require(JobName.forDatabase("srvx app", of: "fleet"))
        let listed = try await cli.run("list", "--job", app)
        #expect(listed.status == 0 && listed.stdout.contains(app + "_"), "\(listed.stdout) \(listed.stderr)")
        let restored = try await cli.run("restore", "--job", app, "--to-database", "srvx app copy")
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM t", database: "srvx app copy") == "2")
        // `list` shows the server's roles and every database's backups, a dropped database's too.
        let all = try await cli.listed()
        let jobs = Set(all.compactMap { $0["job"] as? String })
        let expected = Set((Self.selected + ["srvx new"]).compactMap { JobName.forDatabase($0, of: "fleet") })
        #expect(jobs == expected.union(["fleet"]), "\(jobs.sorted())")
        #expect(all.filter { $0["job"] as? String == app }.count == 2)
        #expect(all.first { $0["job"] as? String == dropped }?["database"] as? String == "srvx_2")
        // verify and prune go over every database's job too; the roles backup is checked by its checksum.
        let verified = try await cli.run("verify")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(verified.stdout.contains(".globals: checksum OK"), "\(verified.stdout)")
        // The 10 databases with backups (the dropped one's too); `srvx new` has no table.
        #expect(verified.stdout.components(separatedBy: "restored into a scratch database").count - 1 == 10
                && verified.stdout.components(separatedBy: "public.t ").count - 1 == 9, "\(verified.stdout)")
        let pruned = try await cli.run("prune", "--dry-run")
        #expect(pruned.status == 0 && pruned.stdout.contains("[\(app)] 2 to keep"), "\(pruned.stdout) \(pruned.stderr)")
        let unknown = try await cli.run("list", "--job", "fleet.nope%2")
        #expect(unknown.status == 64 && unknown.stderr.contains("no job named 'fleet.nope%2'"), "\(unknown.stderr)")

        // A manifest stored under a database's job must name that database: one naming another is damage,
        // listed as a problem and never restored.
        let dot = try #require(JobName.forDatabase("srvx.dot", of: "fleet"))
        let dotBackups = try cli.files().filter { JobName.isBackupFile($0, of: dot) }
        #expect(dotBackups.count == 2)
        for backup in dotBackups { try cli.editManifest(of: backup) { $0["database"] = "srvx app" } }
        let problems = try await cli.listedProblems().compactMap { $0["problem"] as? String }
        #expect(problems.contains { $0.contains(#"names database "srvx app", not "srvx.dot""#) }, "\(problems)")
        let misnamed = try await cli.run("restore", "--job", dot, "--to-database", "srvx dot copy")
        #expect(misnamed.status == 1 && misnamed.stderr.contains("no backup"), "\(misnamed.stderr)")
    }

    /// `backup run` has a gauge per database of a whole-server job: when it was last backed up, or failed.
    @Test(.timeLimit(.minutes(10))) func theDaemonHasGaugesPerDatabase() async throws {
        let server = try await PostgresServer.shared
        for name in ["srvm one", #"srvm"two"#, "srvm private"] {
            try await server.psql("CREATE DATABASE \(Self.quoted(name)) OWNER \(server.user)")
        }
        try await server.psql("ALTER DATABASE \(Self.quoted("srvm private")) OWNER TO postgres;"
            + " REVOKE CONNECT ON DATABASE \(Self.quoted("srvm private")) FROM PUBLIC")
        let httpPort = try FreePort.closed()
        let cli = try await BackupCLI(label: "servermetrics") {
            "http.listen = 127.0.0.1:\(httpPort)\nparallel = 2\n"
                + server.config(job: "fleet", database: "*", directory: $0,
                                extra: "compressor = none\npostgres.include = srvm*\nschedule = 0 0 1 1 *")
        }
        defer { cli.cleanUp() }
        let log = "\(cli.directory)/daemon.log"
        let daemon = try await Background.backup(cli, "run", stderrFile: log)
        defer { daemon.end() }
        var text = ""
        try await waitUntil("the daemon's first run") {
            text = try await StatusEndpointTests.get("http://127.0.0.1:\(httpPort)/metrics").body
            return StatusEndpointTests.Metrics(text)["backup_runs_total", "fleet"] ?? 0 >= 1
        }
        _ = try await daemon.stop(SIGTERM)
        let success = "backup_database_last_success_timestamp_seconds", failure = "backup_database_last_failure_timestamp_seconds"
        #expect(text.contains(#"\#(success){job="fleet",database="srvm one"} "#), "\(text)")
        #expect(text.contains(#"\#(success){job="fleet",database="srvm\"two"} "#), "\(text)")
        #expect(text.contains(#"\#(failure){job="fleet",database="srvm private"} "#), "\(text)")
        #expect(!text.contains(#"\#(success){job="fleet",database="srvm private"}"#), "\(text)")

        // Restarted (a yearly schedule: the backup just made is not overdue, so nothing runs at start), the
        // daemon has each database's gauge from what is stored.
        let one = try #require(Self.gauge(text, #"\#(success){job="fleet",database="srvm one"}"#))
        let restarted = try await Background.backup(cli, "run", stderrFile: log + ".2")
        defer { restarted.end() }
        var after = ""
        try await waitUntil("the restarted daemon's metrics") {
            after = (try? await StatusEndpointTests.get("http://127.0.0.1:\(httpPort)/metrics").body) ?? ""
            // Set once the daemon has read what is stored (the per-database gauges first).
            return StatusEndpointTests.Metrics(after)["backup_next_run_timestamp_seconds", "fleet"] ?? 0 > 0
        }
        _ = try await restarted.stop(SIGTERM)
        #expect(StatusEndpointTests.Metrics(after)["backup_runs_total", "fleet"] ?? 0 == 0, "\(after)")
        let stored = try #require(Self.gauge(after, #"\#(success){job="fleet",database="srvm one"}"#), "\(after)")
        #expect(abs(stored - one) < 5, "\(one) \(stored)")
        #expect(Self.gauge(after, #"\#(success){job="fleet",database="srvm\"two"}"#) != nil, "\(after)")
    }

    /// The value of the series `series` (name and labels, as exposed) in `text`.
    static func gauge(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
            .flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    /// `copy` of a whole-server job copies its roles backup and every database's.
    @Test func copyTakesEveryDatabase() async throws {
        let server = try await PostgresServer.shared
        for name in ["srvc a", "srvc b"] {
            try await server.psql("CREATE DATABASE \(Self.quoted(name)) OWNER \(server.user)")
        }
        let other = try Paths.temporaryDirectory("srvc-b")
        defer { try? FileManager.default.removeItem(atPath: other) }
        func destinations(_ list: String) -> (String) -> String {
            { server.config(job: "fleet", database: "*", directory: $0, extra: """
                compressor = none
                postgres.include = srvc*
                destination = \(list)
                \(list.contains("local@b") ? "local@b.path = \(other)" : "")
                """) }
        }
        let cli = try await BackupCLI(label: "servercopy", config: destinations("local"))
        defer { cli.cleanUp() }
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        try destinations("local, local@b")(cli.backups).write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let copied = try await cli.run("copy", "--from", "local", "--to", "local@b")
        #expect(copied.status == 0 && copied.stdout.contains("3 copied, 0 already at local@b"),
                "\(copied.stdout) \(copied.stderr)")
        let copies = try FileManager.default.contentsOfDirectory(atPath: other).filter { !$0.hasPrefix(".") }
        #expect(Set(copies) == Set(try cli.files()), "\(copies.sorted())")
    }

    @Test func databaseNamesBecomeSafeJobNames() {
        // A file names its database's job, even when the name holds `_` and a timestamp of its own.
        let odd = JobName.forDatabase("x_20260101T000000Z", of: "fleet")!
        #expect(JobName.databaseJob(owning: odd + "_20261206T000000Z.sql.manifest.json", under: "fleet") == odd)
        #expect(JobName.databaseJob(owning: "fleet.app_20261206T000000Z.sql", under: "fleet") == "fleet.app")
        #expect(JobName.databaseJob(owning: "fleet_20261206T000000Z.globals.sql", under: "fleet") == nil)
        #expect(JobName.forDatabase("app", of: "fleet") == "fleet.app")
        #expect(JobName.forDatabase("my db", of: "fleet") == "fleet.my%20db")
        #expect(JobName.forDatabase("../x/.y", of: "fleet") == "fleet.%2E%2E%2Fx%2F%2Ey")
        #expect(JobName.forDatabase("ü", of: "fleet") == "fleet.%C3%BC")
        #expect(JobName.forDatabase("a%b", of: "fleet") == "fleet.a%25b")
        #expect(JobName.forDatabase("", of: "fleet") == nil)
        #expect(JobName.forDatabase(String(repeating: "é", count: 31), of: String(repeating: "j", count: 100)) == nil)
        for name in ["app", "my db", "../x/.y", "ü", "a%b", #"q"u'o"#] {
            #expect(JobName.database(in: JobName.forDatabase(name, of: "fleet")!, of: "fleet") == name)
        }
        #expect(JobName.database(in: "fleet.a%2", of: "fleet") == nil)
        #expect(JobName.database(in: "fleet.a%2e", of: "fleet") == nil, "only the form we write")
        #expect(JobName.database(in: "fleet.a.b", of: "fleet") == nil)
        #expect(JobName.database(in: "fleetx.a", of: "fleet") == nil)
    }
}
