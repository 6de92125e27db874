import Age
import Foundation
import Testing
import TestSupport

/// `backup check` against real parts: the shared PostgreSQL server, a volume, moto_server (signing enforced)
/// and age keys. It passes when everything answers and leaves nothing behind; each thing a first backup
/// would trip over (a wrong password, a missing database, a missing volume, a missing bucket, a key that
/// does not open the backups) is one FAILED line naming it, with exit status 1, also in `--json`.
@Suite struct CheckTests {
    @Test func everythingAJobUsesIsCheckedAndNothingIsLeftBehind() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("check_ok", rows: 10)
        let bucket = try await moto.makeBucket("check-ok")
        let (identity, recipient) = AgeKeys.generate()
        let (otherIdentity, _) = AgeKeys.generate()
        let cli = try await BackupCLI(label: "check-ok", config: {
            server.config(database: "check_ok", directory: $0, extra: """
                destination = local, s3
                s3.bucket = \(bucket)
                compressor = gzip
                encryption = age
                age.recipients = \(recipient)
                """)
        }, environment: moto.environment)
        defer { cli.cleanUp() }
        let right = "\(cli.directory)/right.key"
        let wrong = "\(cli.directory)/wrong.key"
        FileManager.default.createFile(atPath: right, contents: Data("\(identity)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: wrong, contents: Data("\(otherIdentity)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])

        // Without a key (as in the backup pod): the encryption is checked to encrypt, and nothing more.
        let plain = try await cli.run("check")
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        let lines = plain.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "source, local, s3, gzip, age and the total: \(plain.stdout)")
        #expect(line(lines, "source").contains(" ok ") && line(lines, "source").contains("database check_ok")
                && line(lines, "source").contains("pg_dump"), "\(plain.stdout)")
        #expect(line(lines, "local").contains(" ok ") && line(lines, "local").contains("writable"), "\(plain.stdout)")
        #expect(line(lines, "s3").contains(" ok ") && line(lines, "s3").contains("0 backups listed"), "\(plain.stdout)")
        #expect(line(lines, "gzip").contains("decodes again"), "\(plain.stdout)")
        #expect(line(lines, "age").contains(recipient) && line(lines, "age").contains("no key here opens it"),
                "\(plain.stdout)")
        #expect(lines.last == "5 checks: 5 ok, 0 failed")
        // The probes were removed again: nothing in the volume (hidden or not), nothing in the bucket.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.backups).isEmpty)
        #expect(try await moto.allKeys(bucket).isEmpty)

        let opened = try await cli.run("check", "--identity", right)
        #expect(opened.status == 0 && line(opened.stdout, "age").contains("the key given opens it"),
                "\(opened.stdout)\(opened.stderr)")
        let refused = try await cli.run("check", "--identity", wrong, "--json")
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(refused.stdout.utf8)) as? [String: Any])
        let checks = try #require(report["checks"] as? [[String: Any]])
        #expect(report["version"] as? Int == 1 && report["ok"] as? Bool == false)
        #expect(checks.map { $0["check"] as? String } == ["source", "local", "s3", "gzip", "age"])
        #expect(checks.map { $0["ok"] as? Bool } == [true, true, true, true, false], "\(refused.stdout)")
        #expect((checks.last?["detail"] as? String)?.contains("does not open it") == true, "\(refused.stdout)")
        #expect(refused.stderr.contains("check failed: app age"), "\(refused.stderr)")
    }

    @Test func whatAFirstBackupWouldTripOverIsNamed() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("check_bad", rows: 10)
        let cli = try await BackupCLI(label: "check-bad", config: { directory in
            """
            postgres.host = 127.0.0.1
            postgres.port = \(server.port)
            postgres.user = \(server.user)
            postgres.password = ${TEST_PGPASSWORD}
            s3.bucket = check-missing-bucket
            local.path = \(directory)-missing

            [wrong_password]
            postgres.password = not-the-password
            postgres.database = check_bad

            [missing_database]
            postgres.database = check_missing
            destination = local, s3
            """
        }, environment: moto.environment)
        defer { cli.cleanUp() }
        let result = try await cli.run("check")
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let password = try #require(lines.first { $0.hasPrefix("wrong_password") && $0.contains(" source ") })
        #expect(password.contains("FAILED") && password.contains("password"), "\(result.stdout)")
        #expect(!result.stdout.contains("not-the-password") && !result.stderr.contains("not-the-password"))
        let missing = try #require(lines.first { $0.hasPrefix("missing_database") && $0.contains(" source ") })
        #expect(missing.contains("FAILED") && missing.contains("check_missing"), "\(result.stdout)")
        #expect(lines.filter { $0.contains(" gzip ") && $0.contains(" ok ") }.count == 2, "\(result.stdout)")
        let volume = lines.filter { $0.contains(" local ") }
        #expect(volume.count == 2 && volume.allSatisfy { $0.contains("FAILED") && $0.contains("does not exist") },
                "\(result.stdout)")
        let bucket = try #require(lines.first { $0.contains(" s3 ") })
        #expect(bucket.contains("FAILED") && bucket.contains("NoSuchBucket"), "\(result.stdout)")
        #expect(lines.last == "7 checks: 2 ok, 5 failed", "\(result.stdout)")
        #expect(result.stderr.contains("check failed: wrong_password source, wrong_password local, "
                                       + "missing_database source, missing_database local, missing_database s3"),
                "\(result.stderr)")
    }

    /// The line of `output` (or `lines`) for the check `name`.
    private func line(_ lines: [String], _ name: String) -> String {
        lines.first { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == Substring(name) }
            ?? ""
    }

    private func line(_ output: String, _ name: String) -> String {
        line(output.split(separator: "\n").map(String.init), name)
    }
}
