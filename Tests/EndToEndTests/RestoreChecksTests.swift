import Age
import Foundation
import Testing
import TestSupport

/// A restore that cannot start says why before it prints its plan, and changes nothing: an existing
/// `--to-database`, sessions connected to a database restored in place, an identity that does not open the
/// backup. `--dry-run` makes the same checks, prints the plan and what they found, and changes nothing.
/// `verify` without the key says so, and `verify = after-backup` with age names the setting `now` reads.
@Suite struct RestoreChecksTests {
    @Test func aRestoreThatCannotStartSaysSoBeforeItsPlan() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("rchk_src", rows: 20)
        try await server.makeSampleDatabase("rchk_taken", rows: 1)
        let (identity, recipient) = AgeKeys.generate()
        let (otherIdentity, _) = AgeKeys.generate()
        let cli = try await BackupCLI(label: "restore-checks", config: {
            server.config(database: "rchk_src", directory: $0, extra: "encryption = age\nage.recipients = \(recipient)")
        })
        defer { cli.cleanUp() }
        let right = "\(cli.directory)/right.key"
        let wrong = "\(cli.directory)/wrong.key"
        FileManager.default.createFile(atPath: right, contents: Data("\(identity)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: wrong, contents: Data("\(otherIdentity)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        #expect(try await cli.run("now").status == 0)
        let before = try await server.databases().filter { $0.hasPrefix("rchk") }

        let taken = try await cli.run("restore", "--to-database", "rchk_taken", "--identity", right)
        #expect(taken.status == 1 && taken.stderr.contains("database rchk_taken already exists")
                && taken.stderr.contains("nothing was changed"), "\(taken.stderr)")
        #expect(taken.stdout.isEmpty, "no plan for a restore that cannot start: \(taken.stdout)")

        let wrongKey = try await cli.run("restore", "--to-database", "rchk_new", "--identity", wrong)
        #expect(wrongKey.status == 1 && wrongKey.stderr.contains("no key given opens it"), "\(wrongKey.stderr)")
        #expect(wrongKey.stdout.isEmpty, "\(wrongKey.stdout)")

        let hold = try await TableHold.start(server, database: "rchk_src", pidFile: "\(cli.directory)/hold.pid")
        defer { hold.end() }
        let busy = try await cli.run("restore", "--yes", "--identity", right)
        #expect(busy.status == 1 && busy.stderr.contains("other session(s) are connected to rchk_src"),
                "\(busy.stderr)")
        #expect(busy.stdout.isEmpty, "\(busy.stdout)")
        let busyDry = try await cli.run("restore", "--dry-run", "--identity", right)
        #expect(busyDry.status == 1 && busyDry.stdout.isEmpty, "\(busyDry.stdout)\(busyDry.stderr)")
        try await hold.release()
        try await server.psql("DROP TABLE held", database: "rchk_src")

        let dry = try await cli.run("restore", "--dry-run", "--to-database", "rchk_new", "--identity", right)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.hasPrefix("Would restore ") && dry.stdout.contains("Checked:")
                && dry.stdout.contains("its start decodes through age") && dry.stdout.contains("answers: PostgreSQL")
                && dry.stdout.contains("database rchk_new does not exist yet")
                && dry.stdout.hasSuffix("Nothing was changed (--dry-run).\n"), "\(dry.stdout)")
        let inPlaceDry = try await cli.run("restore", "--dry-run", "--identity", right)
        #expect(inPlaceDry.status == 0 && inPlaceDry.stdout.contains("database rchk_src exists; no other session"),
                "\(inPlaceDry.stdout)\(inPlaceDry.stderr)")
        #expect(try await server.databases().filter { $0.hasPrefix("rchk") } == before, "nothing created or dropped")

        // verify without a key: said as such, not as a failed restore.
        let noKey = try await cli.run("verify")
        #expect(noKey.status == 1 && noKey.stdout.contains("CANNOT DECRYPT")
                && noKey.stdout.contains("set age.identity_file"), "\(noKey.stdout)")
        // verify = after-backup in a pod that only encrypts: the setting `now` reads is named first.
        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        try (config + "\nverify = after-backup\n").write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let afterBackup = try await cli.run("check-config")
        #expect(afterBackup.status == 78 && afterBackup.stderr.contains("set age.identity_file (restore and verify"),
                "\(afterBackup.stderr)")
    }
}
