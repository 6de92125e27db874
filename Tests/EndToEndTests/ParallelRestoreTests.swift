import Age
import Engine
import Foundation
import Testing
import TestSupport

/// Parallel restore (`--jobs N`) of custom-format backups from any destination and chain of stages: what
/// pg_restore cannot read in place is decoded once into a scratch file in `restore.scratch_dir` (mode 0600,
/// removed in every case; a SIGKILL's leftover removed by the next restore), then loaded by pg_restore with
/// N sessions; the database comes back equal to the source, and the last line says where the time went.
/// `--jobs 1` streams as before.
@Suite struct ParallelRestoreTests {
    static let chains: [(destination: String, encrypted: Bool)] = [
        ("local", false), ("local", true), ("s3", false), ("s3", true),
    ]

    @Test(arguments: chains)
    func aCustomBackupRestoresInParallelFromAnyDestination(destination: String, encrypted: Bool) async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        let name = "par_\(destination)_\(encrypted ? "age" : "plain")"
        try await server.makeSampleDatabase(name, rows: 3000)
        let bucket = try await moto.makeBucket(name.replacingOccurrences(of: "_", with: "-"))
        let (identity, recipient) = AgeKeys.generate()
        let cli = try await BackupCLI(label: name, config: {
            server.config(database: name, directory: $0, extra: """
                postgres.format = custom
                compressor = zstd
                destination = \(destination)
                s3.bucket = \(bucket)
                restore.scratch_dir = \($0)-scratch
                \(encrypted ? "encryption = age\nage.recipients = \(recipient)" : "")
                """)
        }, environment: moto.environment)
        defer { cli.cleanUp() }
        let scratch = cli.backups + "-scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = "\(cli.directory)/identity"
        FileManager.default.createFile(atPath: key, contents: Data("\(identity)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        let keys = encrypted ? ["--identity", key] : []
        #expect(try await cli.run("now").status == 0)
        let source = try await server.dumpForComparison(name)
        // Without --jobs, a backup the zstd stage shrank streams: its decoded copy would cost more than it saves.
        var unset = cli
        unset.environment["BACKUP_RESTORE_JOBS"] = ""
        let byDefault = try await Shell.run(Paths.backup, ["restore", "--to-database", "\(name)_default", "--dry-run"]
                                            + keys + ["--config", cli.configPath], environment: unset.environment)
        #expect(byDefault.stdout.contains("pg_restore in one session and one transaction"), "\(byDefault.stdout)")

        for jobs in ["2", "1"] {
            let target = "\(name)_copy\(jobs)"
            let arguments = ["restore", "--to-database", target, "--jobs", jobs] + keys + ["--config", cli.configPath]
            if jobs == "2" {
                let dry = try await Shell.run(Paths.backup, arguments + ["--dry-run"], environment: cli.environment)
                #expect(dry.stdout.contains("the scratch copy (") && dry.stdout.contains("fits in \(scratch)"),
                        "\(dry.stdout)\(dry.stderr)")
            }
            let restored = try await Shell.run(Paths.backup, arguments, environment: cli.environment)
            #expect(restored.status == 0, "\(restored.stdout)\(restored.stderr)")
            let last = restored.stdout.split(separator: "\n").last.map(String.init) ?? ""
            if jobs == "2" {
                #expect(restored.stdout.contains("pg_restore from a copy decoded into \(scratch)")
                        && restored.stdout.contains("with 2 sessions at once"), "\(restored.stdout)")
                #expect(last.contains("(checksum ") && last.contains(", fetch and decode ") && last.contains(", data ")
                        && last.contains(", indexes and constraints after it ") && last.contains(", row counts "),
                        "\(last)")
            } else {
                #expect(restored.stdout.contains("pg_restore in one session and one transaction")
                        && last.contains("(checksum ") && last.contains(", row counts ") && !last.contains(", data "),
                        "\(restored.stdout)")
            }
            #expect(try await server.dumpForComparison(target) == source, "the \(jobs)-job restore differs")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty, "the scratch copy is gone")
            try await server.psql("DROP DATABASE \(target)")
        }
        let verified = try await Shell.run(Paths.backup, ["verify", "--jobs", "2"] + keys + ["--config", cli.configPath],
                                           environment: cli.environment)
        #expect(verified.status == 0 && verified.stdout.contains("tables match"), "\(verified.stdout)\(verified.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
    }

    /// `postgres.compress` (pg_dump's own per-table compression, gzip level 1 here, which every pg_dump has)
    /// with `compressor = none`: on a volume pg_restore reads the stored file in place; from a bucket through
    /// age the scratch copy is the stored size, not the dump's uncompressed size. A plain job may not set it.
    @Test func aDumpPgDumpCompressedRestoresInPlaceOrFromASmallCopy() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("par_own", rows: 3000)
        let bucket = try await moto.makeBucket("par-own")
        let (identity, recipient) = AgeKeys.generate()
        let cli = try await BackupCLI(label: "par-own", config: {
            server.config(database: "par_own", directory: $0, extra: """
                postgres.format = custom
                postgres.compress = 1
                compressor = none
                destination = local, s3
                s3.bucket = \(bucket)
                encryption = age
                age.recipients = \(recipient)
                restore.scratch_dir = \($0)
                """)
        }, environment: moto.environment)
        defer { cli.cleanUp() }
        let key = "\(cli.directory)/identity"
        FileManager.default.createFile(atPath: key, contents: Data("\(identity)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { $0.hasSuffix(".dump.age") })
        let manifest = try cli.manifest(of: file)
        let source = try await server.dumpForComparison("par_own")
        // Through age from the bucket: the scratch copy is the stored dump, compressed by pg_dump.
        let dry = try await cli.run("restore", "--to-database", "par_own_s3", "--from", "s3", "--jobs", "2",
                                    "--identity", key, "--dry-run")
        #expect(dry.stdout.contains("the scratch copy (\(ByteCount.format(manifest.rawBytes))) fits"), "\(dry.stdout)")
        // Without --jobs too: the copy is no larger than what is stored.
        var unset = cli
        unset.environment["BACKUP_RESTORE_JOBS"] = ""
        let byDefault = try await Shell.run(Paths.backup, ["restore", "--to-database", "par_own_s3", "--from", "s3",
                                                           "--identity", key, "--dry-run", "--config", cli.configPath],
                                            environment: unset.environment)
        #expect(byDefault.stdout.contains("pg_restore from a copy decoded into"), "\(byDefault.stdout)")
        let fromBucket = try await cli.run("restore", "--to-database", "par_own_s3", "--from", "s3", "--jobs", "2",
                                           "--identity", key)
        #expect(fromBucket.status == 0, "\(fromBucket.stderr)")
        #expect(try await server.dumpForComparison("par_own_s3") == source)
        try await server.psql("DROP DATABASE par_own_s3")
        // The uncompressed dump would be several times larger: pg_dump did compress it.
        let plainSize = try await server.psql("SELECT pg_database_size('par_own')")
        #expect(manifest.rawBytes * 2 < Int64(plainSize) ?? 0, "\(manifest.rawBytes) against \(plainSize)")

        // Without encryption, on the volume, it is read in place.
        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "encryption = age", with: "# not encrypted")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        #expect(try await cli.run("now").status == 0)
        let local = try await cli.run("restore", "--to-database", "par_own_local", "--from", "local", "--jobs", "2")
        #expect(local.status == 0 && local.stdout.contains(".dump directly: tables and indexes loaded with 2 sessions"),
                "\(local.stdout)\(local.stderr)")
        #expect(try await server.dumpForComparison("par_own_local") == source)
        try await server.psql("DROP DATABASE par_own_local")

        try config.replacingOccurrences(of: "postgres.format = custom", with: "postgres.format = plain")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let refused = try await cli.run("check-config")
        #expect(refused.status == 78 && refused.stderr.contains("postgres.compress") , "\(refused.stderr)")
    }

    /// The scratch file is 0600, removed when the load fails or a signal stops the restore (and the database
    /// it created is dropped), and a copy a SIGKILL left is removed by the next restore. A pg_restore
    /// stand-in records the mode of the file it was given, fails after loading while `fail` exists, and
    /// waits instead of loading while `hold` exists.
    @Test func theScratchCopyNeverOutlivesTheRestore() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("par_signals", rows: 500)
        let cli = try await BackupCLI(label: "par-signals", config: {
            server.config(database: "par_signals", directory: $0, extra: """
                postgres.format = custom
                compressor = gzip
                restore.scratch_dir = \($0)-scratch
                postgres.pg_dump = \($0)-tools/pg_dump
                """)
        })
        defer { cli.cleanUp() }
        let scratch = cli.backups + "-scratch"
        let tools = cli.backups + "-tools"
        for directory in [scratch, tools] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        }
        defer { for directory in [scratch, tools] { try? FileManager.default.removeItem(atPath: directory) } }
        try FileManager.default.createSymbolicLink(atPath: "\(tools)/pg_dump", withDestinationPath: Paths.pgTool("pg_dump"))
        try """
            #!/bin/sh
            for last; do :; done
            stat -c %a "$last" >> "$(dirname "$0")/modes"
            case " $* " in *" --jobs "*)
                if [ -e "$(dirname "$0")/hold" ]; then echo $$ >> "$(dirname "$0")/stand-in.pids"; exec sleep 600; fi ;;
            esac
            if [ -e "$(dirname "$0")/fail" ]; then
                \(Paths.pgTool("pg_restore")) "$@" 2>/dev/null
                echo "pg_restore: error: the test's stand-in failed" >&2; exit 1
            fi
            exec \(Paths.pgTool("pg_restore")) "$@"
            """.write(toFile: "\(tools)/pg_restore", atomically: true, encoding: .utf8)
        chmod("\(tools)/pg_restore", 0o755)
        #expect(try await cli.run("now").status == 0)

        // A load that fails at its end (all loaded, then an error): the database and the copy are gone.
        #expect(FileManager.default.createFile(atPath: "\(tools)/fail", contents: Data()))
        let failed = try await cli.run("restore", "--to-database", "par_signals_fail", "--jobs", "2")
        #expect(failed.status == 1 && failed.stderr.contains("the test's stand-in failed")
                && failed.stderr.contains("the restore was undone: dropped database par_signals_fail"), "\(failed.stderr)")
        #expect(!(try await server.databases().contains("par_signals_fail")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty, "removed on failure")
        try FileManager.default.removeItem(atPath: "\(tools)/fail")

        #expect(FileManager.default.createFile(atPath: "\(tools)/hold", contents: Data()))

        // SIGTERM during the load: exit 143, the database dropped, the scratch copy gone.
        let terminated = try await Background.backup(cli, "restore", "--to-database", "par_signals_term", "--jobs", "2")
        defer { terminated.end() }
        try await waitUntil("the stand-in to hold the load") { !FakePgDump.hanging(in: tools).isEmpty }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).count == 1)
        let (result, _) = try await terminated.stop(SIGTERM)
        #expect(result.status == 143, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty, "removed on SIGTERM")
        #expect(!(try await server.databases().contains("par_signals_term")))
        FakePgDump.endStandIn(in: tools)
        try? FileManager.default.removeItem(atPath: "\(tools)/stand-in.pids")

        // SIGKILL: nothing can clean up; the next restore removes the copy the dead process left.
        let killed = try await Background.backup(cli, "restore", "--to-database", "par_signals_kill", "--jobs", "2")
        try await waitUntil("the stand-in to hold the load") { !FakePgDump.hanging(in: tools).isEmpty }
        _ = try await killed.stop(SIGKILL)
        FakePgDump.endStandIn(in: tools)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).count == 1, "a SIGKILL leaves it")
        try FileManager.default.removeItem(atPath: "\(tools)/hold")
        let next = try await cli.run("restore", "--to-database", "par_signals_next", "--jobs", "2")
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty, "the next restore removed it")
        let modes = try String(contentsOfFile: "\(tools)/modes", encoding: .utf8).split(separator: "\n")
        #expect(!modes.isEmpty && modes.allSatisfy { $0 == "600" }, "\(modes)")
        try await server.psql("DROP DATABASE IF EXISTS par_signals_kill")
        try await server.psql("DROP DATABASE par_signals_next")
    }

    /// A scratch directory that cannot take the decoded backup (missing here; full is the same check) stops the
    /// restore before anything is made, naming the setting and --jobs 1.
    @Test func aScratchDirectoryThatCannotBeUsedIsNamedFirst() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("par_small", rows: 2000)
        let cli = try await BackupCLI(label: "par-small", config: {
            server.config(database: "par_small", directory: $0, extra: "postgres.format = custom\ncompressor = zstd\n"
                          + "restore.scratch_dir = /dev/shm/backup-tests-no-such-dir")
        })
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let refused = try await cli.run("restore", "--to-database", "par_small_copy", "--jobs", "2")
        #expect(refused.status == 1 && refused.stderr.contains("restore.scratch_dir /dev/shm/backup-tests-no-such-dir")
                && refused.stderr.contains("--jobs 1") && refused.stdout.isEmpty, "\(refused.stderr)")
        #expect(!(try await server.databases().contains("par_small_copy")))
    }
}
