import Engine
import Foundation
import Testing
import TestSupport

/// `backup restore` and `backup verify` against the real server: the restored database's pg_dump equals
/// the source's at backup time, failures change nothing, and verification catches damaged backups.
@Suite struct RestoreVerifyTests {
    /// A database with one backup, and its pg_dump at backup time.
    struct Backed {
        let cli: BackupCLI
        let database: String
        let dumpAtBackup: String
        let file: String

        static func make(_ label: String, extra: String = "") async throws -> Backed {
            let server = try await PostgresServer.shared
            let database = "rv_\(label)"
            try await server.makeSampleDatabase(database, rows: 300)
            let cli = try await BackupCLI(label: "rv-\(label)") { server.config(database: database, directory: $0, extra: extra) }
            let result = try await cli.run("now")
            #expect(result.status == 0, "\(result.stderr)")
            let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
            return Backed(cli: cli, database: database, dumpAtBackup: try await server.dumpForComparison(database), file: file)
        }

        var path: String { "\(cli.backups)/\(file)" }

        /// Rewrites the manifest with `change` applied to its JSON object.
        func editManifest(_ change: (inout [String: Any]) -> Void) throws {
            let url = URL(fileURLWithPath: path + Manifest.suffix)
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            change(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: url)
        }
    }

    @Test func restoreIntoANewDatabase() async throws {
        let b = try await Backed.make("new")
        defer { b.cli.cleanUp() }
        let server = try await PostgresServer.shared
        let result = try await b.cli.run("restore", "--to-database", "rv_new_copy")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("create database rv_new_copy") && result.stdout.contains("Restored into rv_new_copy: 2 tables, 1200 rows"))
        expectSameDump(try await server.dumpForComparison("rv_new_copy"), b.dumpAtBackup)

        let again = try await b.cli.run("restore", "--to-database", "rv_new_copy")
        #expect(again.status == 1 && again.stderr.contains("database rv_new_copy already exists"))
        let forced = try await b.cli.run("restore", "--to-database", "rv_new_copy", "--force")
        #expect(forced.status == 0, "\(forced.stderr)")
    }

    /// A custom dump stored uncompressed on local disk restores with pg_restore's parallel jobs.
    @Test func parallelRestoreOfAnUncompressedCustomDump() async throws {
        let b = try await Backed.make("parallel", extra: "postgres.format = custom\ncompressor = none")
        defer { b.cli.cleanUp() }
        let result = try await b.cli.run("restore", "--to-database", "rv_parallel_copy", "--jobs", "2")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("pg_restore reading \(b.path) directly") && result.stdout.contains("sessions at once"),
                "\(result.stdout)")
        expectSameDump(try await PostgresServer.shared.dumpForComparison("rv_parallel_copy"), b.dumpAtBackup)
        // pg_restore reads that file itself, not through the stream that hashes it; verify still proves it.
        let verified = try await b.cli.run("verify")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: b.path)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: b.path))
        let damaged = try await b.cli.run("verify")
        #expect(damaged.status == 1 && damaged.stderr.contains("\(b.file) is damaged"), "\(damaged.stdout) \(damaged.stderr)")
    }

    /// The job now writes gzip, but its older backup is zstd: the manifest picks the decompressor.
    @Test func restoreReadsTheCompressorTheManifestNames() async throws {
        let b = try await Backed.make("mixed", extra: "compressor = zstd")
        defer { b.cli.cleanUp() }
        let config = try String(contentsOfFile: b.cli.configPath, encoding: .utf8).replacingOccurrences(of: "compressor = zstd", with: "compressor = gzip")
        try config.write(toFile: b.cli.configPath, atomically: true, encoding: .utf8)
        let result = try await b.cli.run("restore", "--to-database", "rv_mixed_copy")
        #expect(result.status == 0, "\(result.stderr)")
        expectSameDump(try await PostgresServer.shared.dumpForComparison("rv_mixed_copy"), b.dumpAtBackup)
    }

    /// The target server is down: one clear error, nothing else happens.
    @Test func restoreToADownServerFailsClearly() async throws {
        let b = try await Backed.make("down")
        defer { b.cli.cleanUp() }
        let closed = try FreePort.closed()
        let config = try String(contentsOfFile: b.cli.configPath, encoding: .utf8)
            .replacingOccurrences(of: "postgres.port = ", with: "postgres.port = \(closed)\n#")
        try config.write(toFile: b.cli.configPath, atomically: true, encoding: .utf8)
        for arguments in [["restore", "--to-database", "rv_down_copy"], ["verify"]] {
            let result = try await Shell.run(Paths.backup, arguments + ["--config", b.cli.configPath], environment: b.cli.environment)
            #expect(result.status == 1)
            #expect(result.stderr.contains("cannot reach PostgreSQL at 127.0.0.1:\(closed)"), "\(result.stderr)")
        }
    }

    @Test func inPlaceRestoreKeepsTheOldDatabase() async throws {
        let b = try await Backed.make("inplace", extra: "postgres.format = custom\ncompressor = zstd")
        defer { b.cli.cleanUp() }
        let server = try await PostgresServer.shared
        try await server.psql("DELETE FROM orders WHERE id % 2 = 0; CREATE TABLE after_backup (x int)", database: b.database)
        let changed = try await server.dumpForComparison(b.database)

        let unconfirmed = try await b.cli.run("restore")
        #expect(unconfirmed.status == 64 && unconfirmed.stderr.contains("--yes"))
        let result = try await b.cli.run("restore", "--yes")
        #expect(result.status == 0, "\(result.stderr)")
        expectSameDump(try await server.dumpForComparison(b.database), b.dumpAtBackup)
        let kept = try #require(try await server.databases().first { $0.hasPrefix("rv_inplace_before_restore_") })
        #expect(result.stdout.contains("kept as \(kept)"))
        expectSameDump(try await server.dumpForComparison(kept), changed)
        #expect(!(try await server.databases().contains { $0.hasPrefix("rv_inplace_restoring_") }))
    }

    @Test func inPlaceRestoreRefusesABusyDatabaseUnlessForced() async throws {
        let b = try await Backed.make("busy")
        defer { b.cli.cleanUp() }
        let server = try await PostgresServer.shared
        // An application's session, as the application's own role (which the restore may disconnect).
        var asApplication = server.superuserEnvironment
        asApplication["PGUSER"] = server.user
        asApplication["PGPASSWORD"] = server.password
        let session = Task { [asApplication] in
            try await Shell.run(Paths.pgTool("psql"), ["-d", b.database, "-c", "SELECT pg_sleep(300)"], environment: asApplication)
        }
        defer { session.cancel() }
        // psql may take many seconds to start on a loaded machine; wait up to a minute for its session.
        var connected = false
        for _ in 0..<600 where !connected {
            connected = try await server.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = '\(b.database)'") != "0"
            if !connected { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(connected, "the application's psql session never connected")
        let refused = try await b.cli.run("restore", "--yes")
        #expect(refused.status == 1 && refused.stderr.contains("other session(s) are connected to rv_busy"), "\(refused.stderr)")
        let forced = try await b.cli.run("restore", "--yes", "--force", "--drop-previous")
        #expect(forced.status == 0, "\(forced.stderr)")
        expectSameDump(try await server.dumpForComparison(b.database), b.dumpAtBackup)
        #expect(!(try await server.databases().contains { $0.hasPrefix("rv_busy_") }), "--drop-previous keeps nothing")
    }

    /// A syntax error injected into the middle of the dump (with the checksum made to match, so the restore
    /// really starts): the restore fails loudly and the original database is exactly as it was.
    @Test func failedInPlaceRestoreLeavesTheOriginalUntouched() async throws {
        let b = try await Backed.make("broken", extra: "compressor = none")
        defer { b.cli.cleanUp() }
        let server = try await PostgresServer.shared
        var text = try String(contentsOfFile: b.path, encoding: .utf8)
        let copyLine = try #require(text.range(of: "COPY public.orders"))
        text.insert(contentsOf: "THIS IS NOT SQL;\n", at: copyLine.lowerBound)
        try text.write(toFile: b.path, atomically: true, encoding: .utf8)
        let sum = String(try await Shell.sh("sha256sum '\(b.path)'").stdout.prefix(64))
        try b.editManifest { $0["sha256"] = sum; $0["stored_bytes"] = text.utf8.count }

        let result = try await b.cli.run("restore", "--yes", "--force")
        #expect(result.status == 1)
        #expect(result.stderr.contains("psql failed restoring into rv_broken_restoring_") && result.stderr.contains("THIS"), "\(result.stderr)")
        expectSameDump(try await server.dumpForComparison(b.database), b.dumpAtBackup)
        #expect(try await server.databases().filter { $0.hasPrefix("rv_broken") } == ["rv_broken"])
    }

    @Test func verifyPassesOnAGoodBackup() async throws {
        let b = try await Backed.make("good")
        defer { b.cli.cleanUp() }
        let result = try await b.cli.run("verify")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("public.customers       300       300  ok"), "\(result.stdout)")
        #expect(result.stdout.contains("2 of 2 tables match"))
        #expect(try await b.cli.run("verify", "--checksums-only", "--backup", "all").stdout.contains("checksum OK"))
        #expect(!(try await PostgresServer.shared.databases().contains { $0.hasPrefix("rv_good_verify_") }))
    }

    @Test func oneFlippedByteFailsVerifyAndStopsRestore() async throws {
        let b = try await Backed.make("flipped")
        defer { b.cli.cleanUp() }
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: b.path)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: b.path))
        for arguments in [["verify"], ["verify", "--checksums-only"]] {
            let result = try await Shell.run(Paths.backup, arguments + ["--config", b.cli.configPath], environment: b.cli.environment)
            #expect(result.status == 1)
            #expect(result.stdout.contains("CHECKSUM MISMATCH") && result.stderr.contains("\(b.file) is damaged"), "\(result.stderr)")
        }
        let restore = try await b.cli.run("restore", "--to-database", "rv_flipped_copy")
        #expect(restore.status == 1 && restore.stderr.contains("is damaged"))
        #expect(try await PostgresServer.shared.databases().filter { $0.hasPrefix("rv_flipped") } == ["rv_flipped"],
                "nothing on the server may change")
    }

    /// A zstd backup damaged in the middle: the decoder fails part way, psql or pg_restore has half a
    /// stream; verify still reads the rest, names the damage, and stops the tool rather than wait on it.
    @Test(.timeLimit(.minutes(10)), arguments: ["plain", "custom"])
    func aDamagedZstdBackupFailsVerifyWithoutHanging(format: String) async throws {
        let b = try await Backed.make("zflip_\(format)", extra: "compressor = zstd\npostgres.format = \(format)")
        defer { b.cli.cleanUp() }
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: b.path)))
        for offset in stride(from: bytes.count / 3, to: bytes.count / 2, by: 97) { bytes[offset] ^= 0x5A }
        try Data(bytes).write(to: URL(fileURLWithPath: b.path))
        let result = try await b.cli.run("verify")
        #expect(result.status == 1 && result.stdout.contains("CHECKSUM MISMATCH") && result.stderr.contains("is damaged"),
                "\(result.stdout)\(result.stderr)")
        #expect(!(try await PostgresServer.shared.databases().contains { $0.hasPrefix("rv_zflip_\(format)_verify_") }))
    }

    /// A plain dump with a psql command planted in it (the checksum made to match): `\\!` would run a shell
    /// command in the pod. The restore refuses it before psql sees the line, and nothing runs.
    @Test func aPsqlCommandInTheDumpIsNeverRun() async throws {
        let b = try await Backed.make("shell", extra: "compressor = none")
        defer { b.cli.cleanUp() }
        let marker = "\(b.cli.directory)/shell-ran"
        var text = try String(contentsOfFile: b.path, encoding: .utf8)
        let copyLine = try #require(text.range(of: "COPY public.orders"))
        text.insert(contentsOf: "\\! touch '\(marker)'\n", at: copyLine.lowerBound)
        try text.write(toFile: b.path, atomically: true, encoding: .utf8)
        let sum = String(try await Shell.sh("sha256sum '\(b.path)'").stdout.prefix(64))
        try b.editManifest { $0["sha256"] = sum; $0["stored_bytes"] = text.utf8.count }

        let result = try await b.cli.run("restore", "--to-database", "rv_shell_copy")
        #expect(result.status == 1 && result.stderr.contains("the dump holds the psql command \"\\\\! touch"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the planted command ran")
        #expect(try await PostgresServer.shared.databases().filter { $0.hasPrefix("rv_shell") } == ["rv_shell"])
    }

    /// SIGTERM while verify restores: the scratch database is dropped and the exit says interrupted.
    @Test func sigtermDuringVerifyDropsTheScratchDatabase() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("rv_sig", rows: 40_000)
        let cli = try await BackupCLI(label: "rv-sig") { server.config(database: "rv_sig", directory: $0, extra: "compressor = zstd") }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let result = try await Shell.sh("""
            '\(Paths.backup)' verify --config '\(cli.configPath)' & pid=$!
            found=0
            for i in $(seq 1 600); do
                if [ -n "$(psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname LIKE 'rv\\_sig\\_verify\\_%'")" ]; then found=1; break; fi
                sleep 0.1
            done
            echo "found=$found"; kill -TERM $pid; wait $pid; echo "status=$?"
            """, environment: server.superuserEnvironment.merging(cli.environment) { $1 })
        #expect(result.stdout.contains("found=1"), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("status=143"), "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("the scratch database was dropped"))
        #expect(!(try await server.databases().contains { $0.hasPrefix("rv_sig_verify_") }), "the scratch database must go")
    }

    /// A restore whose rows differ from what the backup recorded is undone before anything is final:
    /// counted from psql's COPY tags (plain) or with count(*) after pg_restore (custom, in parallel).
    @Test(arguments: ["plain", "custom"])
    func rowCountOffByOneFailsRestore(format: String) async throws {
        let b = try await Backed.make("offbyone_\(format)", extra: "postgres.format = \(format)")
        defer { b.cli.cleanUp() }
        let server = try await PostgresServer.shared
        try b.editManifest { manifest in
            var counts = manifest["row_counts"] as! [String: Any]
            counts["public.customers"] = 301
            manifest["row_counts"] = counts
        }
        let copy = "rv_offbyone_\(format)_copy"
        let plan = try await b.cli.run("restore", "--to-database", copy, "--jobs", "2", "--dry-run")
        #expect(plan.stdout.contains("each of the 2 tables must hold what the backup recorded"), "\(plan.stdout)")
        let result = try await b.cli.run("restore", "--to-database", copy, "--jobs", "2")
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("public.customers (300 rows, the backup recorded 301)")
                && result.stderr.contains("dropped database \(copy)"), "\(result.stderr)")
        #expect(!(try await server.databases().contains(copy)))
        // In place: the database the backup came from stays as it was, and no other is left behind.
        try await server.psql("DELETE FROM orders WHERE id % 2 = 0", database: b.database)
        let changed = try await server.dumpForComparison(b.database)
        let inPlace = try await b.cli.run("restore", "--yes")
        #expect(inPlace.status == 1 && inPlace.stderr.contains("public.customers (300 rows"), "\(inPlace.stderr)")
        expectSameDump(try await server.dumpForComparison(b.database), changed)
        #expect(!(try await server.databases().contains { $0.hasPrefix("rv_offbyone_\(format)_") }))
    }

    @Test func rowCountOffByOneFailsVerify() async throws {
        let b = try await Backed.make("offbyone")
        defer { b.cli.cleanUp() }
        try b.editManifest { manifest in
            var counts = manifest["row_counts"] as! [String: Any]
            counts["public.customers"] = 301
            manifest["row_counts"] = counts
        }
        let result = try await b.cli.run("verify")
        #expect(result.status == 1)
        #expect(result.stdout.contains("public.customers       301       300  MISMATCH"), "\(result.stdout)")
        #expect(result.stderr.contains("public.customers (expected 301, restored 300)"), "\(result.stderr)")
        #expect(!(try await PostgresServer.shared.databases().contains { $0.hasPrefix("rv_offbyone_verify_") }),
                "the scratch database must go")
    }
}

/// A restore onto a brand-new cluster that has none of the database's roles: the roles, the owner,
/// the database's settings and grants come back from what the backup kept beside the dump.
@Suite struct FreshClusterRestoreTests {
    @Test func restoreOntoAClusterWithNoneOfTheRoles() async throws {
        let server = try await PostgresServer.shared
        try await server.psql("CREATE ROLE fresh_owner NOLOGIN; CREATE ROLE fresh_reader NOLOGIN")
        try await server.psql("CREATE DATABASE rv_fresh OWNER fresh_owner")
        try await server.psql("ALTER DATABASE rv_fresh SET work_mem = '8MB'; GRANT CONNECT ON DATABASE rv_fresh TO fresh_reader")
        try await server.psql("SET ROLE fresh_owner;\n" + SampleData.schema(rows: 100)
                              + "\nGRANT SELECT ON ALL TABLES IN SCHEMA public TO fresh_reader;", database: "rv_fresh")
        let original = try await server.dumpForComparison("rv_fresh")

        // The backup runs as the superuser, since only it can read a database owned by another role.
        let cli = try await BackupCLI.asSuperuser(label: "fresh", database: "rv_fresh")
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })

        let fresh = try Paths.temporaryDirectory("fresh-cluster")
        let started = try await Shell.run("\(Paths.root)/scripts/pg-sandbox", ["start", fresh])
        try #require(started.status == 0, "\(started.stderr)")
        defer { _ = system("'\(Paths.root)/scripts/pg-sandbox' stop '\(fresh)'; rm -rf '\(fresh)'") }
        let port = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let password = try String(contentsOfFile: "\(fresh)/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let freshConfig = "\(cli.directory)/fresh.conf"
        try "postgres.host = 127.0.0.1\npostgres.port = \(port)\npostgres.user = postgres\npostgres.password_file = \(fresh)/password\nlocal.path = \(cli.backups)\npostgres.database = postgres\n"
            .write(toFile: freshConfig, atomically: true, encoding: .utf8)

        let result = try await Shell.run(Paths.backup, ["restore", "--config", freshConfig, "--backup", "\(cli.backups)/\(file)", "--to-database", "rv_fresh"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Created roles (no passwords; set them): fresh_owner, fresh_reader"), "\(result.stdout)")
        let environment = ["PGHOST": "127.0.0.1", "PGPORT": port, "PGUSER": "postgres", "PGPASSWORD": password]
        expectSameDump(try await PostgresServer.dumpForComparison("rv_fresh", environment: environment), original)
        let facts = try await Shell.run(Paths.pgTool("psql"), ["-X", "-At", "-d", "postgres", "-c", """
            SELECT pg_get_userbyid(datdba), array_to_string(s.setconfig, ','), has_database_privilege('fresh_reader', 'rv_fresh', 'CONNECT')
            FROM pg_database d LEFT JOIN pg_db_role_setting s ON s.setdatabase = d.oid WHERE datname = 'rv_fresh'
            """], environment: environment)
        #expect(facts.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "fresh_owner|work_mem=8MB|t", "\(facts.stdout) \(facts.stderr)")

        // verify.* (earlier releases' names of postgres.verify_*) sends verify's scratch restore to the fresh
        // server instead of the job's own.
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8)
             + "verify.host = 127.0.0.1\nverify.port = \(port)\nverify.user = postgres\nverify.password_file = \(fresh)/password\n")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let verified = try await cli.run("verify")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(verified.stdout.contains("2 of 2 tables match"))
        let leftovers = try await Shell.run(Paths.pgTool("psql"), ["-X", "-At", "-d", "postgres", "-c",
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'rv_fresh_verify_%'"], environment: environment)
        #expect(leftovers.stdout.hasPrefix("0"))
        // And it really goes there: pointed at a closed port, verify cannot reach its server.
        let closed = try FreePort.closed()
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8).replacingOccurrences(of: "verify.port = \(port)", with: "verify.port = \(closed)"))
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let unreachable = try await cli.run("verify")
        #expect(unreachable.status == 1 && unreachable.stderr.contains("cannot reach PostgreSQL at 127.0.0.1:\(closed)"), "\(unreachable.stderr)")
        let checked = try await cli.run("check-config")
        // The keys of earlier releases (verify.*) read as the source's own (postgres.verify_*).
        #expect(checked.stdout.contains("postgres.verify_password = <redacted>") && !checked.stdout.contains(password), "\(checked.stdout)")
    }
}

/// `verify = after-backup`: each new backup proves itself; one that cannot be verified fails the run and
/// stays on disk, marked unverified in its manifest.
@Suite struct VerifyAfterBackupTests {
    @Test func aGoodBackupIsMarkedPassed() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("vab_good", rows: 50)
        let cli = try await BackupCLI(label: "vab-good") { server.config(database: "vab_good", directory: $0, extra: "verify = after-backup") }
        defer { cli.cleanUp() }
        let result = try await cli.run("now")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("backup verified: 2 tables"))
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        #expect(try cli.manifest(of: file).verification == "passed")
    }

    /// A role that may dump but not create databases cannot restore a scratch copy: the run fails loudly.
    @Test func anUnverifiableBackupFailsTheRunButIsKept() async throws {
        let server = try await PostgresServer.shared
        try await server.psql("CREATE ROLE vab_nocreate LOGIN NOCREATEDB PASSWORD 'vab-Pass-42'")
        try await server.psql("CREATE DATABASE vab_bad OWNER vab_nocreate")
        try await server.psql("SET ROLE vab_nocreate; CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2)", database: "vab_bad")
        let cli = try await BackupCLI(label: "vab-bad", config: { directory in
            server.config(database: "vab_bad", directory: directory, extra: "verify = after-backup\ncount.keep = 1")
                .replacingOccurrences(of: "postgres.user = backup", with: "postgres.user = vab_nocreate")
        }, environment: ["TEST_PGPASSWORD": "vab-Pass-42"])
        defer { cli.cleanUp() }
        let result = try await cli.run("now")
        #expect(result.status == 1)
        #expect(result.stderr.contains("backup verification failed (the backup is kept, marked unverified)"), "\(result.stderr)")
        #expect(result.stderr.contains("backup failed for job: app"))
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        #expect(try cli.manifest(of: file).verification?.hasPrefix("failed: ") == true)
        #expect(try await cli.listed().count == 1)
        // An unverifiable backup never displaces another: retention does not run after it.
        #expect(try await cli.run("now").status == 1)
        #expect(try await cli.listed().count == 2, "count.keep = 1 must not delete while verification fails")
    }
}
