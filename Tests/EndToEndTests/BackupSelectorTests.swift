import Foundation
import Testing
import TestSupport

/// `--backup` takes every form `backup list` shows: the ID (its own column), the creation time as ISO 8601,
/// the file name or its path, and a beginning of an ID that only one backup has; a beginning two share is
/// refused naming both.
@Suite struct BackupSelectorTests {
    @Test func everyFormListShowsSelectsTheBackup() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("selector_db", rows: 10)
        let cli = try await BackupCLI(label: "selector") { server.config(database: "selector_db", directory: $0) }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        try await Task.sleep(for: .seconds(1.1))
        #expect(try await cli.run("now").status == 0)
        let listed = try await cli.listed()
        try #require(listed.count == 2)
        let ids = listed.compactMap { $0["id"] as? String }
        let (older, newer) = (listed[0], listed[1])
        let file = try #require(newer["file"] as? String), created = try #require(newer["created"] as? String)
        let id = try #require(newer["id"] as? String)
        #expect(ids.count == 2 && file.hasPrefix("app_\(id).") && (older["file"] as? String)?.hasPrefix("app_\(ids[0]).") == true)

        let table = try await cli.run("list")
        let header = try #require(table.stdout.split(separator: "\n").first)
        #expect(header.hasPrefix("JOB") && header.contains(" ID ") && table.stdout.contains(" \(id) "), "\(table.stdout)")

        let common = zip(ids[0], ids[1]).prefix { $0 == $1 }.count
        let unique = String(id.prefix(common + 1))
        for form in [id, created, file, cli.path(file), unique] {
            let chosen = try await cli.run("verify", "--checksums-only", "--backup", form)
            #expect(chosen.status == 0 && chosen.stdout.contains("\(file): checksum OK"), "\(form): \(chosen.stdout) \(chosen.stderr)")
        }
        if common >= 4 {
            let shared = String(id.prefix(common))
            let ambiguous = try await cli.run("verify", "--checksums-only", "--backup", shared)
            #expect(ambiguous.status != 0 && ambiguous.stderr.contains("'\(shared)' begins 2 backups of job app")
                    && ambiguous.stderr.contains(ids[0]) && ambiguous.stderr.contains(ids[1]), "\(ambiguous.stderr)")
        }
        // The time exactly as `list` prints it, given to restore (it was refused: "has no backup").
        let restored = try await cli.run("restore", "--backup", created, "--to-database", "selector_copy")
        #expect(restored.status == 0 && (restored.stdout + restored.stderr).contains(file), "\(restored.stdout) \(restored.stderr)")
        let missing = try await cli.run("verify", "--checksums-only", "--backup", "19990101T000000Z")
        #expect(missing.status != 0 && missing.stderr.contains("has no backup '19990101T000000Z'"), "\(missing.stderr)")
    }
}
