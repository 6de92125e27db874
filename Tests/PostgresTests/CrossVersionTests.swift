import Engine
import Foundation
import Testing
import TestSupport

/// The upgrade path: a backup of the test run's PostgreSQL 15, made by pg_dump 15, restores onto an 18
/// server with nothing done by hand, using 18's own client tools, and gives what `pg_dump 18 | psql 18` of
/// the same source gives (15 and 18 print some definitions differently, so that is the reference, not the
/// source's own dump). Needs `scripts/pg-versions prepare 18`, which `scripts/test` runs.
@Suite struct CrossVersionTests {
    @Test(arguments: ["plain", "custom"])
    func aBackupOf15RestoresOnto18AsPgDump18Would(format: String) async throws {
        let server = try await PostgresServer.shared
        let source = "xv_\(format)"
        try await server.makeSampleDatabase(source, rows: 500)
        try await server.psql("CREATE ROLE xv_reader_\(format) NOLOGIN")
        try await server.psql("SET ROLE \(server.user); GRANT SELECT ON customers TO xv_reader_\(format)", database: source)
        let version = try await server.psql("SHOW server_version_num")
        let cli = try await BackupCLI(label: "xv-\(format)") { server.config(database: source, directory: $0, extra: "postgres.format = \(format)") }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        let manifest = try cli.manifest(of: file)
        #expect(manifest.serverVersion.hasPrefix(String(version.prefix(2))) && manifest.dumpToolVersion.hasPrefix(String(version.prefix(2))))

        let target = try await FreshCluster.start(superuser: "admin", major: 18)
        defer { target.stop() }
        #expect(try await target.psql("SHOW server_version_num").hasPrefix("18"))
        let restored = try await target.restore(cli, file: file, into: source)
        #expect(restored.status == 0, "\(restored.stdout) \(restored.stderr)")

        // The reference: pg_dump 18 of the source, loaded by psql 18 into a database of the same owner.
        try await target.psql("CREATE DATABASE xv_reference OWNER \(server.user)")
        let piped = try await Shell.run("/bin/bash", ["-o", "pipefail", "-c", """
            PGPASSWORD='\(server.superuserPassword)' '\(target.tool("pg_dump"))' -h 127.0.0.1 -p \(server.port) -U postgres -d \(source) \
            | PGPASSWORD='\(target.password)' '\(target.tool("psql"))' -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p \(target.port) -U admin -d xv_reference
            """])
        #expect(piped.status == 0, "\(piped.stderr)")
        func dump(_ database: String) async throws -> String {
            let result = try await Shell.run(target.tool("pg_dump"), ["--restrict-key=compare", "-d", database], environment: target.environment)
            guard result.status == 0 else { throw TestFailure("pg_dump 18 of \(database) failed: \(result.stderr)") }
            return result.stdout
        }
        expectSameDump(try await dump(source), try await dump("xv_reference"))
        #expect(try await target.psql("SELECT count(*) FROM customers", database: source) == "500")
    }

    /// With several majors' client tools at hand (the run's own and 18's, first on PATH), a backup is made
    /// by the oldest pg_dump that can dump the server: its own major's. A backup that pg_dump 18 made of the
    /// same server (`postgres.pg_dump`, as an earlier release that chose the newest pg_dump made them)
    /// restores onto that server equal to the source: read by 18's tools (the server's own pg_restore
    /// refuses an archive from a newer pg_dump), without the `transaction_timeout` setting it refuses.
    @Test(arguments: ["plain", "custom"])
    func theServersOwnPgDumpBacksUpAndARestoreReadsWhatANewerOneWrote(format: String) async throws {
        let server = try await PostgresServer.shared
        let major = try await server.psql("SHOW server_version_num").dropLast(4)
        try #require(Int(major) ?? 18 < 18, "the run's own server is older than 18 (scripts/test runs this on 15)")
        let made = try await Shell.run("\(Paths.root)/scripts/pg-versions", ["clients", "18"])
        try #require(made.status == 0, "\(made.stderr)")
        let clients = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let path = "\(clients):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"
        try await server.makeSampleDatabase("xv_pick_\(format)", rows: 300)
        let own = try await BackupCLI(label: "xv-pick-\(format)", config: {
            server.config(database: "xv_pick_\(format)", directory: $0, extra: "postgres.format = \(format)")
        }, environment: ["PATH": path])
        defer { own.cleanUp() }
        #expect(try await own.run("now").status == 0)
        let ownFile = try #require(try own.files().first { !$0.hasSuffix(".json") })
        #expect(try own.manifest(of: ownFile).dumpToolVersion.hasPrefix("\(major)."))

        let newer = try await BackupCLI(label: "xv-pick-18-\(format)", config: {
            server.config(database: "xv_pick_\(format)", directory: $0, extra: "postgres.format = \(format)\npostgres.pg_dump = \(clients)/pg_dump")
        }, environment: ["PATH": path])
        defer { newer.cleanUp() }
        #expect(try await newer.run("now").status == 0)
        let newerFile = try #require(try newer.files().first { !$0.hasSuffix(".json") })
        #expect(try newer.manifest(of: newerFile).dumpToolVersion.hasPrefix("18."))
        // Restored by the job without postgres.pg_dump: the tools are chosen for the server and the dump.
        let restored = try await own.run("restore", "--backup", newer.path(newerFile), "--to-database", "xv_pick_\(format)_copy")
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameDump(try await server.dumpForComparison("xv_pick_\(format)_copy"), try await server.dumpForComparison("xv_pick_\(format)"))
    }
}
