import Foundation
import Testing
import TestSupport

/// Two destinations holding different backups of one job (`local` and `local@b`): `list`, `verify`,
/// `restore` and `copy` agree on where each backup is, since they all ask the one catalog.
@Suite struct CatalogAgreementTests {
    @Test func listVerifyRestoreAndCopyAgreeOnWhereEachBackupIs() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("cat_two", rows: 200)
        let other = try Paths.temporaryDirectory("cat-b")
        func destinations(_ list: String) -> (String) -> String {
            { server.config(database: "cat_two", directory: $0, extra: "destination = \(list)\nlocal@b.path = \(other)") }
        }
        let cli = try await BackupCLI(label: "cat-two", config: destinations("local, local@b"))
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0, "the first backup goes to both")
        try destinations("local@b")(cli.backups).write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        #expect(try await cli.run("now").status == 0, "the second only to b")
        try destinations("local, local@b")(cli.backups).write(toFile: cli.configPath, atomically: true, encoding: .utf8)

        let listed = try await cli.listed()
        let names = listed.compactMap { $0["file"] as? String }
        try #require(names.count == 2, "\(listed)")
        let (first, second) = (names[0], names[1])
        #expect(listed.map { $0["destinations"] as? [String] ?? [] } == [["local", "local@b"], ["local@b"]], "\(listed)")

        let verified = try await cli.run("verify", "--backup", "all")
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        for name in names {
            #expect(verified.stdout.components(separatedBy: "\(name): restored into a scratch database").count == 2,
                    "each backup verified once: \(verified.stdout)")
        }

        let latest = try await cli.run("restore", "--to-database", "cat_two_latest")
        #expect(latest.status == 0 && latest.stdout.contains("Restoring \(other)/\(second) "), "the newest, from b: \(latest.stdout)")
        let older = try await cli.run("restore", "--backup", first, "--to-database", "cat_two_older")
        #expect(older.status == 0 && older.stdout.contains("Restoring \(cli.backups)/\(first) "),
                "from the first destination configured that has it: \(older.stdout)")

        let copied = try await cli.run("copy", "--from", "local@b", "--to", "local", "--backup", "all")
        #expect(copied.status == 0 && copied.stdout.contains("copied \(second) to \(cli.backups)/\(second)")
                && copied.stdout.contains("\(first): already at local") && copied.stdout.contains("1 copied, 1 already at local"),
                "\(copied.stdout)\(copied.stderr)")
        #expect(try await cli.listed().map { $0["destinations"] as? [String] ?? [] } == [["local", "local@b"], ["local", "local@b"]])
    }
}
