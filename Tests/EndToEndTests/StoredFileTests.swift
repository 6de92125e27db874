import Engine
import Foundation
import Testing
import TestSupport

/// Whatever a stored manifest or sidecar says, as someone who can write the volume or the bucket would
/// plant it: names outside the backup are never read, written, copied or deleted, in any command and at
/// either destination, and a format-1 globals file's SQL is never run.
@Suite struct StoredFileTests {
    /// A job `app` backing up `database` to a volume and a bucket (moto_server, signing enforced).
    static func cli(_ label: String, database: String) async throws -> (BackupCLI, bucket: String) {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        let bucket = try await moto.makeBucket("stored-\(label)")
        let cli = try await BackupCLI(label: "stored-\(label)", config: {
            server.config(database: database, directory: $0, extra: "destination = local, s3\ns3.bucket = \(bucket)\ncount.keep = 10")
        }, environment: moto.environment)
        return (cli, bucket)
    }

    /// Two backups of `database`, oldest first.
    static func twoBackups(_ cli: BackupCLI) async throws -> [String] {
        for _ in 0..<2 {
            let made = try await cli.run("now")
            try #require(made.status == 0, "\(made.stderr)")
        }
        let made = try await cli.listed().compactMap { $0["file"] as? String }.sorted()
        try #require(made.count == 2)
        return made
    }

    @Test func plantedSidecarNamesAreNeverFollowedOnTheVolume() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("stored_local", rows: 100)
        let (cli, bucket) = try await Self.cli("local", database: "stored_local")
        defer { cli.cleanUp() }
        let moto = try await MotoServer.shared
        let made = try await Self.twoBackups(cli)
        let victim = "\(cli.directory)/victim.txt", secret = "\(cli.directory)/secret.txt"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        try "the secret\n".write(toFile: secret, atomically: false, encoding: .utf8)

        // prune: a sidecar that walks out of the volume through a directory planted under the backup's name.
        try FileManager.default.createDirectory(atPath: cli.path("\(made[0]).d"), withIntermediateDirectories: false)
        try cli.editManifest(of: made[0]) { $0["sidecars"] = ["\(made[0]).d/../../victim.txt"]; $0["sidecar_checksums"] = nil }
        try String(contentsOfFile: cli.configPath, encoding: .utf8).replacingOccurrences(of: "count.keep = 10", with: "count.keep = 1")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let pruned = try await cli.run("prune")
        #expect(FileManager.default.fileExists(atPath: victim), "prune deleted a file outside the volume: \(pruned.stdout)")
        #expect(FileManager.default.fileExists(atPath: cli.path(made[0])), "the damaged backup is kept for a person to look at")
        let problems = try await cli.listedProblems()
        #expect(problems.contains { ($0["problem"] as? String)?.contains("which is not a name this tool writes") == true }, "\(problems)")

        // verify and restore: a sidecar naming an endless device is refused before anything is read.
        try cli.editManifest(of: made[1]) { $0["sidecars"] = ["../../../../dev/zero"]; $0["sidecar_checksums"] = nil }
        let verified = try await cli.run("verify", "--backup", made[1], "--from", "local")
        #expect(verified.status == 1 && verified.stderr.contains("not a whole backup")
                && verified.stderr.contains("not a name this tool writes"), "\(verified.stdout) \(verified.stderr)")
        let all = try await cli.run("verify", "--backup", "all", "--from", "local", "--checksums-only")
        #expect(all.status == 1 && all.stdout.contains("\(made[1]): NOT A WHOLE BACKUP"), "\(all.stdout) \(all.stderr)")
        let restored = try await cli.run("restore", "--backup", cli.path(made[1]), "--to-database", "stored_local_copy")
        #expect(restored.status == 1 && restored.stderr.contains("not a name this tool writes"), "\(restored.stderr)")

        // copy to the bucket: a sidecar one directory up is not uploaded.
        for key in try await moto.keys(bucket) { try #require(try await moto.aws(["s3", "rm", "s3://\(bucket)/\(key)"]).status == 0) }
        try cli.editManifest(of: made[1]) { $0["sidecars"] = ["../secret.txt"] }
        let copied = try await cli.run("copy", "--from", "local", "--to", "s3", "--backup", "all")
        #expect(copied.status == 1 && copied.stdout.contains("0 copied, 0 already at s3, 2 damaged not copied"), "\(copied.stdout) \(copied.stderr)")
        #expect(try await moto.keys(bucket).isEmpty)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    }

    @Test func plantedSidecarNamesAreNeverFollowedFromTheBucket() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("stored_bucket", rows: 100)
        let (cli, bucket) = try await Self.cli("bucket", database: "stored_bucket")
        defer { cli.cleanUp() }
        let moto = try await MotoServer.shared
        let made = try await Self.twoBackups(cli)
        // The bucket's manifest of the newer backup lists `./../pwned.txt`, and that object exists.
        try cli.editManifest(of: made[1]) { $0["sidecars"] = ["./../pwned.txt"]; $0["sidecar_checksums"] = nil }
        let planted = [("\(made[1])\(Manifest.suffix)", cli.path(made[1] + Manifest.suffix))]
        let pwned = "\(cli.directory)/payload"
        try "pwned\n".write(toFile: pwned, atomically: false, encoding: .utf8)
        for (key, file) in planted + [("./../pwned.txt", pwned)] {
            let put = try await moto.aws(["s3api", "put-object", "--bucket", bucket, "--key", key, "--body", file])
            try #require(put.status == 0, "\(put.stderr)")
        }
        for name in try cli.files() where name.hasPrefix(made[1]) { try FileManager.default.removeItem(atPath: cli.path(name)) }

        let copied = try await cli.run("copy", "--from", "s3", "--to", "local", "--backup", "all")
        #expect(copied.status == 1 && copied.stdout.contains("\(made[1]): NOT COPIED"), "\(copied.stdout) \(copied.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(cli.directory)/pwned.txt"))
        #expect(!FileManager.default.fileExists(atPath: "\(cli.backups)/pwned.txt"))
        #expect(!(try cli.files()).contains { $0.hasPrefix(made[1]) })
        let named = try await cli.run("copy", "--from", "s3", "--to", "local", "--backup", made[1])
        #expect(named.status == 1 && named.stderr.contains("not a whole backup"), "\(named.stderr)")
        let verified = try await cli.run("verify", "--backup", made[1], "--from", "s3")
        #expect(verified.status == 1 && verified.stderr.contains("not a name this tool writes"), "\(verified.stderr)")
        let restored = try await cli.run("restore", "--backup", made[1], "--from", "s3", "--to-database", "stored_bucket_copy")
        #expect(restored.status == 1 && restored.stderr.contains("not a whole backup"), "\(restored.stderr)")
        // prune in the bucket: the damaged backup is neither counted nor deleted, nor what it names.
        try String(contentsOfFile: cli.configPath, encoding: .utf8).replacingOccurrences(of: "count.keep = 10", with: "count.keep = 1")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        #expect(try await cli.run("prune").status == 0)
        let keys = try await moto.keys(bucket)
        #expect(keys.contains("./../pwned.txt") && keys.contains(made[1]) && keys.contains(made[0]), "\(keys)")
    }

    /// A sidecar changed after the backup (its manifest records its SHA-256) fails restore and verify
    /// before any database is created.
    @Test func aChangedSidecarFailsItsChecksum() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("stored_sum", rows: 100)
        let cli = try await BackupCLI(label: "stored-sum") { server.config(database: "stored_sum", directory: $0) }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        let recorded = try #require(try cli.manifest(of: file).sidecarChecksums?["\(file).globals.json"])
        let sidecar = cli.path("\(file).globals.json")
        #expect(recorded.bytes == (try FileManager.default.attributesOfItem(atPath: sidecar)[.size] as? Int).map(Int64.init))
        let text = try String(contentsOfFile: sidecar, encoding: .utf8)
        try text.replacingOccurrences(of: "\"stored_sum\"", with: "\"stored_sux\"").write(toFile: sidecar, atomically: false, encoding: .utf8)
        let restored = try await cli.run("restore", "--to-database", "stored_sum_copy")
        #expect(restored.status == 1 && restored.stderr.contains("a sidecar of \(file), is damaged: its SHA-256"), "\(restored.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM pg_database WHERE datname = 'stored_sum_copy'") == "0")
        let checked = try await cli.run("verify", "--checksums-only")
        #expect(checked.status == 1 && checked.stdout.contains("CHECKSUM MISMATCH"), "\(checked.stdout)")
    }

    /// Format-1 globals that carry other SQL than pg_dumpall's role lines: nothing of it runs, no role
    /// becomes a superuser, no other database is touched, and the restore fails naming the file.
    @Test(arguments: [
        (1, "DROP DATABASE {victim};"),
        (2, "alter role {evil} with superuser login;"),
        (3, "ALTER ROLE {evil} WITH\tSUPERUSER LOGIN;"),
        (4, "CREATE ROLE {evil}; DROP DATABASE {victim};"),
    ])
    func plantedVersion1SQLRunsNothing(index: Int, template: String) async throws {
        let server = try await PostgresServer.shared
        let database = "stored_v1_\(index)", victim = "stored_victim_\(index)", evil = "stored_evil_\(index)"
        let line = template.replacingOccurrences(of: "{victim}", with: victim).replacingOccurrences(of: "{evil}", with: evil)
        try await server.makeSampleDatabase(database, rows: 50)
        try await server.psql("DROP DATABASE IF EXISTS \(victim)")
        try await server.psql("CREATE DATABASE \(victim)")
        let cli = try await BackupCLI.asSuperuser(label: "stored-v1-\(index)", database: database)
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        let roles: [[String: Any]] = [["name": evil, "sql": ["CREATE ROLE \(evil);", line]]]
        let globals: [String: Any] = ["database": database, "owner": "postgres", "encoding": "UTF8", "collate": "C.UTF-8",
                                      "ctype": "C.UTF-8", "settings": [], "roles": roles]
        let planted = "\(cli.directory)/planted.json"
        try JSONSerialization.data(withJSONObject: globals).write(to: URL(fileURLWithPath: planted))
        try cli.plantGlobals(of: file, from: planted)

        let restored = try await cli.run("restore", "--to-database", "\(database)_copy")
        #expect(restored.status == 1 && restored.stderr.contains("\(file).globals.json cannot be read")
                && restored.stderr.contains("nothing of it is run"), "\(restored.stdout) \(restored.stderr)")
        #expect(try await server.psql("SELECT count(*) FROM pg_database WHERE datname = '\(victim)'") == "1")
        #expect(try await server.psql("SELECT count(*) FROM pg_roles WHERE rolname = '\(evil)'") == "0")
        #expect(try await server.psql("SELECT count(*) FROM pg_database WHERE datname = '\(database)_copy'") == "0")
        let verified = try await cli.run("verify")
        #expect(verified.status == 1, "\(verified.stdout)")
        #expect(try await server.psql("SELECT count(*) FROM pg_database WHERE datname = '\(victim)'") == "1")
        #expect(try await server.psql("SELECT count(*) FROM pg_roles WHERE rolname = '\(evil)'") == "0")
    }

    /// `backup copy` says `--wait` when a run holds the job's lock, and has that option.
    @Test func copyWaitsForARunWhenAsked() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("stored_wait", rows: 50)
        let (cli, _) = try await Self.cli("wait", database: "stored_wait")
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        // A run that holds the job's locks until the test opens a gate: its pg_dump says it started (the
        // locks are taken before the dump), then waits for the gate (at most two minutes).
        let gate = "\(cli.directory)/gate", started = "\(cli.directory)/started"
        let wrapper = "\(cli.directory)/pg_dump"
        try """
            #!/bin/sh
            case "$1" in --version|-V) ;; *) touch '\(started)'; i=0; while [ ! -f '\(gate)' ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done ;; esac
            exec \(Shell.quote(Paths.pgTool("pg_dump"))) "$@"
            """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o700)
        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        let slow = "\(cli.directory)/slow.conf"
        try (config + "\npostgres.pg_dump = \(wrapper)\n").write(toFile: slow, atomically: true, encoding: .utf8)
        let running = try await Shell.sh("""
            '\(Paths.backup)' now --config '\(slow)' > '\(cli.directory)/slow.log' 2>&1 & echo $!
            """, environment: cli.environment)
        let pid = try #require(Int32(running.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(pid, SIGKILL) }
        let clock = ContinuousClock()
        let begin = clock.now
        while !FileManager.default.fileExists(atPath: started), clock.now - begin < .seconds(120) {
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(FileManager.default.fileExists(atPath: started), "the run never started its dump")
        let busy = try await cli.run("copy", "--from", "local", "--to", "s3")
        #expect(busy.status == 1 && busy.stderr.contains("pass --wait to wait for it"), "\(busy.stderr)")
        // --wait: the copy waits while the run holds the lock, and copies once it is done.
        let waiting = try await Shell.sh("""
            '\(Paths.backup)' copy --from local --to s3 --wait --backup all --config '\(cli.configPath)' > '\(cli.directory)/copy.out' 2>&1 &
            copy=$!; sleep 2; kill -0 $copy && echo waiting; touch '\(gate)'; wait $copy; echo "status=$?"
            """, environment: cli.environment)
        let output = (try? String(contentsOfFile: "\(cli.directory)/copy.out", encoding: .utf8)) ?? ""
        #expect(waiting.stdout.contains("waiting") && waiting.stdout.contains("status=0"), "\(waiting.stdout) \(output)")
        #expect(output.contains("already at s3") || output.contains("copied"), "\(output)")
    }
}
