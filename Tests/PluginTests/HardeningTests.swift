import Engine
import Foundation
import Testing

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
            for name in names where symlink(victim, cli.path(name)) == 0 { planted.append(name) }
        }
        func unplant() { planted.forEach { unlink(cli.path($0)) }; planted = [] }
        // The backups the next runs may name, one per second for the next two minutes.
        let upcoming = (0..<120).map { "app_\(Timestamp.compact(Date().addingTimeInterval(Double($0)))).sql.gz" }

        plant([".app.lock"])
        let locked = try await cli.run("now")
        #expect(locked.status == 1 && locked.stderr.contains("\(cli.backups)/.app.lock is a symbolic link where the backup expects a file of its own"),
                "\(locked.stderr)")
        #expect(try victimIntact())
        unplant()

        plant(upcoming.map { ".\($0).manifest.json.replacing" })
        let marked = try await cli.run("now")
        #expect(marked.status == 0, "\(marked.stderr)")
        #expect(try victimIntact())
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        var info = stat()
        #expect(lstat(cli.path(file + Manifest.suffix), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG)
        #expect(try cli.manifest(of: file).verification == "passed")
        unplant()

        // Links at the names of partial files look like an interrupted run's leftovers: removed (unlink
        // removes the link, not its target), then the backup is written as usual.
        plant(upcoming.flatMap { [".\($0).partial", ".\($0).globals.json.partial", ".\($0).manifest.json.partial"] })
        let partial = try await cli.run("now")
        #expect(partial.status == 0 && partial.stderr.contains("removed what an interrupted run left behind"), "\(partial.stderr)")
        #expect(try victimIntact())
        #expect(try cli.allFiles().filter { $0.hasSuffix(".partial") }.isEmpty)
        unplant()

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
