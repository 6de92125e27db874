import Age
import Engine
import Foundation
import Testing
import TestSupport

/// The pod image as users deploy it: built from Containerfile by `scripts/image` (the runtime stage on an
/// imported Debian root filesystem, the binary built on the host with the same flags) and run with podman
/// as `deploy/` runs it: a read-only root filesystem, every capability dropped, on loopback.
@Suite(.serialized) struct ContainerImageTests {
    /// Built once per test run (and reused while its inputs are unchanged).
    static let image = Task { () async throws -> String in
        let built = try await Shell.run("\(Paths.root)/scripts/image", ["build"])
        guard built.status == 0, let name = built.stdout.split(separator: "\n").last else {
            throw TestFailure("scripts/image build failed: \(built.stderr.suffix(2000))")
        }
        return String(name)
    }

    static var containersConf: String { "\(Paths.root)/.build-image/containers.conf" }

    /// `podman ARGUMENTS`, with `environment` for the podman process (a `--env NAME` takes its value from
    /// there, so no secret is in an argument).
    static func podman(_ arguments: [String], environment: [String: String] = [:]) async throws -> Shell.Result {
        try await Shell.run("/usr/bin/podman", arguments,
                            environment: environment.merging(["CONTAINERS_CONF": containersConf]) { $1 })
    }

    /// The original container's variables for `database` on 127.0.0.1:`port` as `user`, backing up into
    /// /backups; the password by name only, its value from podman's environment (`POSTGRESQL_PASSWORD`).
    static func originalVariables(port: Int, user: String, database: String) -> [String] {
        ["-e", "DATABASE_SERVICE_NAME=127.0.0.1", "-e", "POSTGRESQL_PORT_NUM=\(port)", "-e", "POSTGRESQL_USER=\(user)",
         "--env", "POSTGRESQL_PASSWORD", "-e", "POSTGRESQL_DATABASE=\(database)", "-e", "BACKUP_DIR=/backups"]
    }

    /// Removes container `name`, running or not: for a `defer`, which cannot wait.
    static func remove(_ name: String) {
        _ = system("CONTAINERS_CONF='\(containersConf)' /usr/bin/podman rm -f \(name) > /dev/null 2>&1")
    }

    /// How `deploy/` runs the container: no capabilities, nothing written outside the volume.
    static let hardened = ["--network", "host", "--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges"]

    /// A directory as a volume of group 0 is: owned by root, writable by the group.
    static func volume(_ label: String) throws -> String {
        let directory = try Paths.temporaryDirectory(label)
        chmod(directory, 0o770)
        return directory
    }

    /// The manifest at `path`, as JSON.
    static func manifest(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    /// Owner, group and mode of `path`.
    static func owner(_ path: String) throws -> (uid: Int, gid: Int, mode: Int) {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return ((attributes[.ownerAccountID] as? NSNumber)?.intValue ?? -1,
                (attributes[.groupOwnerAccountID] as? NSNumber)?.intValue ?? -1,
                (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1)
    }

    /// The seed's pod: only the original container's variables, as uid 10001 and then, on the same volume,
    /// as an arbitrary uid in group 0 (OpenShift's restricted SCC); both backups restore outside.
    @Test(.timeLimit(.minutes(20))) func theOriginalVariablesBackUpAsAnyUidOfGroupZero() async throws {
        let image = try await Self.image.value
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("ctr_orig", rows: 200)
        let backups = try Self.volume("container-volume")
        defer { try? FileManager.default.removeItem(atPath: backups) }
        var made: [String] = []
        for user in ["10001:0", "1000650000:0"] {
            let run = try await Self.podman(["run", "--rm", "--user", user] + Self.hardened + [
                "-v", "\(backups):/backups",
            ] + Self.originalVariables(port: server.port, user: server.user, database: "ctr_orig") + [image, "now"],
            environment: ["POSTGRESQL_PASSWORD": server.password])
            #expect(run.status == 0, "as \(user): \(run.stderr)")
            #expect(!run.stderr.contains(server.password))
            let files = try FileManager.default.contentsOfDirectory(atPath: backups)
                .filter { JobName.isBackupFile($0, of: "ctr_orig") && !made.contains($0) }
            try #require(files.count == 1, "as \(user): \(files)")
            made.append(files[0])
            let (uid, gid, mode) = try Self.owner("\(backups)/\(files[0])")
            #expect(uid == Int(user.split(separator: ":")[0]) && gid == 0 && mode == 0o640,
                    "\(files[0]): uid \(uid), gid \(gid), mode \(String(mode, radix: 8))")
            // Another uid of the group must reopen the lock file: it alone is group-writable.
            #expect(try Self.owner("\(backups)/.ctr_orig.lock").mode == 0o660)
            // The image carries newer pg_dumps too; the server's own major made the dump, so it loads
            // into a server of that major (a newer pg_dump's would not: `transaction_timeout`).
            let major = try await server.psql("SHOW server_version_num").dropLast(4)
            #expect(try Self.manifest("\(backups)/\(files[0]).manifest.json")["dump_tool_version"]
                .map { "\($0)".hasPrefix("\(major).") } == true)
            // A second backup of the job waits for the next second of the clock.
            try await Task.sleep(for: .seconds(1))
        }
        // Each restores outside the container, to a database equal to the source.
        let cli = try await BackupCLI(label: "container-restore") { _ in
            server.config(job: "ctr_orig", database: "ctr_orig", directory: backups)
        }
        defer { cli.cleanUp() }
        let source = try await server.dumpForComparison("ctr_orig")
        for (index, file) in made.enumerated() {
            let copy = "ctr_orig_copy\(index)"
            let restored = try await cli.run("restore", "--backup", "\(backups)/\(file)", "--to-database", copy)
            #expect(restored.status == 0, "\(restored.stderr)")
            expectSameDump(try await server.dumpForComparison(copy), source)
        }
    }

    /// `backup run` with a config file mounted at /etc/backup/backup.conf and its password as a mounted
    /// file: it backs up at start (nothing stored yet), answers /healthz, /readyz and /metrics, and ends
    /// with exit 0 on `podman stop` (SIGTERM) while idle. Its backup is 0640 and restores outside.
    @Test(.timeLimit(.minutes(20))) func theDaemonAnswersItsProbesAndStopsCleanly() async throws {
        let image = try await Self.image.value
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("ctr_daemon", rows: 100)
        let backups = try Self.volume("container-daemon")
        defer { try? FileManager.default.removeItem(atPath: backups) }
        let secrets = try Paths.temporaryDirectory("container-secrets")
        defer { try? FileManager.default.removeItem(atPath: secrets) }
        FileManager.default.createFile(atPath: "\(secrets)/password", contents: Data(server.password.utf8),
                                       attributes: [.posixPermissions: 0o440])
        try """
            postgres.host = 127.0.0.1
            postgres.port = \(server.port)
            postgres.user = \(server.user)
            postgres.password_file = /run/secrets/db/password
            local.path = /backups
            compressor = zstd
            interval = 1h

            [app]
            postgres.database = ctr_daemon
            """.write(toFile: "\(secrets)/backup.conf", atomically: true, encoding: .utf8)
        chmod("\(secrets)/backup.conf", 0o444)
        let port = try FreePort.closed()
        let name = "backup-test-\(port)"
        let started = try await Self.podman(["run", "-d", "--name", name, "--user", "10001:0"] + Self.hardened + [
            "-v", "\(backups):/backups", "-v", "\(secrets)/backup.conf:/etc/backup/backup.conf:ro",
            "-v", "\(secrets)/password:/run/secrets/db/password:ro", "-e", "HTTP_LISTEN=127.0.0.1:\(port)", image,
        ])
        defer { Self.remove(name) }
        try #require(started.status == 0, "\(started.stderr)")
        let base = "http://127.0.0.1:\(port)"
        try await waitUntil("the container's first backup", limit: .seconds(180)) {
            try await StatusEndpointTests.scrape(base)["backup_runs_total", "app"] ?? 0 >= 1
        }
        #expect(try await StatusEndpointTests.get(base + "/healthz").code == "200")
        #expect(try await StatusEndpointTests.get(base + "/readyz").code == "200")
        let metrics = try await StatusEndpointTests.scrape(base)
        #expect(metrics["backup_last_success_timestamp_seconds", "app"] ?? 0 > 0, "\(metrics.text)")
        let stopped = try await Self.podman(["stop", "--time", "60", name])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let exit = try await Self.podman(["inspect", "--format", "{{.State.ExitCode}}", name])
        #expect(exit.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(exit.stdout) \(exit.stderr)")
        let logs = try await Self.podman(["logs", name])
        #expect(logs.stderr.contains("\"backup complete\"") || logs.stdout.contains("\"backup complete\""),
                "\(logs.stdout) \(logs.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: backups)
        let made = files.filter { JobName.isBackupFile($0, of: "app") }
        try #require(made.count == 1, "\(files)")
        #expect(!files.contains { $0.hasSuffix(".partial") }, "\(files)")
        #expect(try Self.owner("\(backups)/\(made[0])").mode == 0o640)
        // It restores outside the container, to a database equal to the source.
        let cli = try await BackupCLI(label: "container-daemon-restore") { _ in
            server.config(job: "app", database: "ctr_daemon", directory: backups)
        }
        defer { cli.cleanUp() }
        let restored = try await cli.run("restore", "--backup", "\(backups)/\(made[0])", "--to-database", "ctr_daemon_copy")
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameDump(try await server.dumpForComparison("ctr_daemon_copy"), try await server.dumpForComparison("ctr_daemon"))
    }

    /// `podman stop` during a backup (pg_dump waiting on a lock the test holds), of `backup now` and of the
    /// daemon: the container ends with 143 within the grace period and leaves no partial file, no backup.
    @Test(.timeLimit(.minutes(20))) func aStopDuringABackupEndsWith143AndLeavesNothing() async throws {
        let image = try await Self.image.value
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("ctr_stop", rows: 100)
        let backups = try Self.volume("container-stop")
        defer { try? FileManager.default.removeItem(atPath: backups) }
        // Holds a table so pg_dump waits for it: the backup is under way for as long as the test wants.
        let holder = try await TableHold.start(server, database: "ctr_stop", pidFile: "\(backups)-holder.pid")
        defer { holder.end() }
        // The backup's sessions (its row counts or pg_dump) waiting for the table.
        let waiting = """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = 'ctr_stop' AND usename = '\(server.user)' AND wait_event_type = 'Lock'
            """
        for command in ["now", "run"] {
            try await waitUntil("no backup session left waiting") { try await server.psql(waiting) == "0" }
            let name = "backup-test-stop-\(command)-\(server.port)-\(getpid())"
            let started = try await Self.podman(["run", "-d", "--name", name, "--user", "1000650000:0"] + Self.hardened + [
                "-v", "\(backups):/backups", "-e", "HTTP_LISTEN=127.0.0.1:\(try FreePort.closed())",
            ] + Self.originalVariables(port: server.port, user: server.user, database: "ctr_stop") + [image, command],
            environment: ["POSTGRESQL_PASSWORD": server.password])
            defer { Self.remove(name) }
            try #require(started.status == 0, "\(started.stderr)")
            try await waitUntil("the container's backup (\(command)) waiting for the table", limit: .seconds(180)) {
                try await server.psql(waiting) != "0"
            }
            let stopped = try await Self.podman(["stop", "--time", "60", name])
            #expect(stopped.status == 0, "\(stopped.stderr)")
            let exit = try await Self.podman(["inspect", "--format", "{{.State.ExitCode}}", name])
            #expect(exit.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "143",
                    "backup \(command): \(exit.stdout) \(exit.stderr)")
            let files = try FileManager.default.contentsOfDirectory(atPath: backups)
            #expect(!files.contains { $0.hasSuffix(".partial") || JobName.isBackupFile($0, of: "ctr_stop") },
                    "backup \(command): \(files)")
        }
    }

    /// An encrypted backup into S3 (moto on loopback, signing enforced) from the container, with the keys
    /// in its environment (not its arguments) and only the recipient in its config: the pod cannot read
    /// it; outside, with the identity, it restores to a database equal to the source.
    @Test(.timeLimit(.minutes(20))) func anEncryptedBackupIntoS3RestoresOutside() async throws {
        let image = try await Self.image.value
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("ctr_s3", rows: 500)
        let bucket = try await moto.makeBucket("ctr-s3")
        let directory = try Paths.temporaryDirectory("container-s3")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (identity, recipient) = AgeKeys.generate()
        FileManager.default.createFile(atPath: "\(directory)/identity", contents: Data("\(identity)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: "\(directory)/password", contents: Data(server.password.utf8),
                                       attributes: [.posixPermissions: 0o440])
        let config = """
            postgres.host = 127.0.0.1
            postgres.port = \(server.port)
            postgres.user = \(server.user)
            postgres.password_file = /run/secrets/db/password
            destination = s3
            s3.bucket = \(bucket)
            s3.prefix = ctr/
            compressor = zstd
            encryption = age
            age.recipients = \(recipient)

            [app]
            postgres.database = ctr_s3
            """
        try config.write(toFile: "\(directory)/backup.conf", atomically: true, encoding: .utf8)
        chmod("\(directory)/backup.conf", 0o444)
        // The config and password mounted, the bucket's keys by name from podman's environment.
        let pod = ["run", "--rm", "--user", "10001:0"] + Self.hardened + [
            "-v", "\(directory)/backup.conf:/etc/backup/backup.conf:ro",
            "-v", "\(directory)/password:/run/secrets/db/password:ro",
            "--env", "AWS_ACCESS_KEY_ID", "--env", "AWS_SECRET_ACCESS_KEY", "--env", "AWS_ENDPOINT_URL",
            "--env", "AWS_DEFAULT_REGION", image,
        ]
        let run = try await Self.podman(pod + ["now"], environment: moto.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains(moto.secretAccessKey))
        let keys = try await moto.keys(bucket, prefix: "ctr/")
        #expect(keys.contains { $0.hasSuffix(".sql.zst.age") }, "\(keys)")
        // The pod itself cannot read what it wrote.
        let unreadable = try await Self.podman(pod + ["restore", "--to-database", "ctr_s3_pod"],
                                               environment: moto.environment)
        #expect(unreadable.status != 0 && unreadable.stderr.contains("identity"), "\(unreadable.stderr)")
        // Outside, with the identity.
        let outside = config.replacingOccurrences(of: "/run/secrets/db/password", with: "\(directory)/password")
            + "\nage.identity_file = \(directory)/identity\n"
        try outside.write(toFile: "\(directory)/outside.conf", atomically: true, encoding: .utf8)
        let restored = try await Shell.run(Paths.backup, [
            "restore", "--config", "\(directory)/outside.conf", "--to-database", "ctr_s3_copy",
        ], environment: moto.environment)
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameDump(try await server.dumpForComparison("ctr_s3_copy"), try await server.dumpForComparison("ctr_s3"))
    }

    /// The image's client tools of each major the suite runs beside its own (15, the tests above): a 17 and
    /// an 18 server are each dumped by the image's pg_dump of the server's major (its manifest says so),
    /// and the pod restores the backup with that major's psql into another database, equal to the source.
    @Test(.timeLimit(.minutes(20)), arguments: [17, 18])
    func theImagesClientOfTheServersMajorBacksUpAndRestores(major: Int) async throws {
        let image = try await Self.image.value
        let cluster = try await FreshCluster.start(superuser: "postgres", major: major)
        defer { cluster.stop() }
        try await cluster.psql("CREATE DATABASE ctr_major")
        try await cluster.psql("""
            CREATE TABLE items (id int PRIMARY KEY, note text, made timestamptz DEFAULT now());
            INSERT INTO items (id, note) SELECT g, md5(g::text) FROM generate_series(1, 300) g;
            CREATE INDEX ON items (note);
            """, database: "ctr_major")
        let backups = try Self.volume("container-major-\(major)")
        defer { try? FileManager.default.removeItem(atPath: backups) }
        let pod = ["run", "--rm", "--user", "10001:0"] + Self.hardened + ["-v", "\(backups):/backups"]
            + Self.originalVariables(port: cluster.port, user: "postgres", database: "ctr_major") + [image]
        let secret = ["POSTGRESQL_PASSWORD": cluster.password]
        let run = try await Self.podman(pod + ["now"], environment: secret)
        #expect(run.status == 0, "\(run.stderr)")
        let manifests = try FileManager.default.contentsOfDirectory(atPath: backups).filter { $0.hasSuffix(".manifest.json") }
        try #require(manifests.count == 1, "\(manifests)")
        let dumpedBy = try Self.manifest("\(backups)/\(manifests[0])")["dump_tool_version"] as? String
        #expect(dumpedBy?.hasPrefix("\(major).") == true, "pg_dump \(dumpedBy ?? "?") for a \(major) server")

        let restored = try await Self.podman(pod + ["restore", "--to-database", "ctr_major_copy"], environment: secret)
        #expect(restored.status == 0, "\(restored.stderr)")
        func dump(_ database: String) async throws -> String {
            let result = try await Shell.run(cluster.tool("pg_dump"), ["--restrict-key=compare", "-d", database],
                                             environment: cluster.environment)
            guard result.status == 0 else { throw TestFailure("pg_dump \(database) failed: \(result.stderr)") }
            return result.stdout
        }
        expectSameDump(try await dump("ctr_major_copy"), try await dump("ctr_major"))
    }
}
