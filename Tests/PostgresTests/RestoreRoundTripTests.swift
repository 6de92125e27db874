import Engine
import Foundation
import Testing
import TestSupport

/// Back up a real database with the real `backup` command, restore it with the original README's commands,
/// and require the restored database's pg_dump to equal the source's.
@Suite struct RestoreRoundTripTests {
    struct Case: CustomStringConvertible, Sendable {
        var compressor: String
        var format: String
        var suffix: String
        /// How a person restores it; {file}, {db} and the PG* environment are filled in.
        var restore: String
        var description: String { "\(format)+\(compressor)" }
    }

    static let cases = [
        Case(compressor: "gzip", format: "plain", suffix: ".sql.gz",
             restore: "gunzip -c {file} | psql -X -q -v ON_ERROR_STOP=1 {db}"),
        Case(compressor: "zstd", format: "plain", suffix: ".sql.zst",
             restore: "zstd -dc {file} | psql -X -q -v ON_ERROR_STOP=1 {db}"),
        Case(compressor: "none", format: "plain", suffix: ".sql",
             restore: "psql -X -q -v ON_ERROR_STOP=1 -f {file} {db}"),
        Case(compressor: "gzip", format: "custom", suffix: ".dump.gz",
             restore: "gunzip -c {file} | pg_restore --exit-on-error -d {db}"),
        Case(compressor: "zstd", format: "custom", suffix: ".dump.zst",
             restore: "zstd -dc {file} | pg_restore --exit-on-error -d {db}"),
    ]

    @Test(arguments: cases)
    func backupRestoresToAnIdenticalDatabase(_ c: Case) async throws {
        let server = try await PostgresServer.shared
        let source = "rt_src_\(c.format)_\(c.compressor)"
        let target = "rt_dst_\(c.format)_\(c.compressor)"
        try await server.makeSampleDatabase(source)
        let cli = try await BackupCLI(label: "rt") {
            server.config(database: source, directory: $0,
                          extra: "compressor = \(c.compressor)\npostgres.format = \(c.format)")
        }
        defer { cli.cleanUp() }

        let result = try await cli.run("now")
        #expect(result.status == 0, "backup now failed: \(result.stderr)")
        let files = try cli.files()
        let data = try #require(files.first { $0.hasSuffix(c.suffix) }, "no \(c.suffix) file in \(files)")
        #expect(data.hasPrefix("app_"))
        #expect(files == [data, data + ".globals.json", data + Manifest.suffix], "expected the backup, its globals and manifest, found \(files)")
        #expect(result.stderr.contains("backup complete") && result.stderr.contains(data))

        // The manifest's SHA-256 is that of the stored file, as sha256sum computes it.
        let manifest = try cli.manifest(of: data)
        let sum = try await Shell.sh("sha256sum \(cli.backups)/\(data)").stdout.split(separator: " ").first.map(String.init)
        #expect(manifest.sha256 == sum)
        #expect(manifest.database == source && manifest.format == c.format && manifest.stages.map(\.name) == [c.compressor])
        #expect(manifest.rowCounts == ["public.customers": 2000, "public.orders": 6000])
        #expect(manifest.sidecars == [data + ".globals.json"])
        #expect(manifest.storedBytes == Int64(try FileManager.default.attributesOfItem(atPath: "\(cli.backups)/\(data)")[.size] as! UInt64))

        try await server.makeEmptyDatabase(target)
        // Placeholders that no path can contain, and pipefail, so a failing decompressor fails the restore.
        let command = c.restore.replacingOccurrences(of: "{file}", with: Shell.quote("\(cli.backups)/\(data)"))
            .replacingOccurrences(of: "{db}", with: target)
        let restored = try await Shell.run("/bin/bash", ["-o", "pipefail", "-c", command], environment: server.superuserEnvironment)
        #expect(restored.status == 0, "restore failed: \(restored.stderr)")
        let original = try await server.dumpForComparison(source)
        #expect(original.contains("Ünïcødé") && original.contains("CREATE VIEW public.big_orders"))
        expectSameDump(try await server.dumpForComparison(target), original)
    }

    /// `list --json` reports what is on disk, with the fields the issue promises.
    @Test func listJSONDescribesEachBackup() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("list_src", rows: 50)
        let cli = try await BackupCLI(label: "list") { server.config(database: "list_src", directory: $0) }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        #expect(try await cli.run("now").status == 0)
        let listed = try await cli.listed()
        #expect(listed.count == 2)
        for entry in listed {
            let path = try #require(entry["path"] as? String)
            #expect(path.hasPrefix(cli.backups + "/app_") && path.hasSuffix(".sql.gz"))
            #expect(entry["job"] as? String == "app")
            #expect((entry["bytes"] as? Int ?? 0) > 0)
            #expect((entry["sha256"] as? String)?.count == 64)
            #expect(Timestamp.parseISO8601(entry["created"] as? String ?? "") != nil)
        }
        let table = try await cli.run("list")
        #expect(table.status == 0 && table.stdout.contains("app") && table.stdout.contains(cli.backups))
    }
}
