import Foundation
import Testing
import TestSupport

/// A backup made by the release before the chain of stages (manifest version 1: `compressor`,
/// `compression_level`, `pg_dump_version`), kept in Tests/Fixtures/manifest-v1. It was made by that
/// release's `backup now` (commit a9868e7) from a database `legacy` owned by `legacy_owner`, with a
/// `legacy_reader` granted SELECT on `customers`; the values below were read from that database.
@Suite struct PreviousReleaseTests {
    static let file = "legacy_20261204T152600Z.sql.gz"

    @Test func aBackupOfThePreviousReleaseIsListedVerifiedAndRestored() async throws {
        let server = try await PostgresServer.shared
        let cli = try await BackupCLI(label: "previous", config: { directory in
            "postgres.host = 127.0.0.1\npostgres.port = \(server.port)\npostgres.user = postgres\npostgres.password = ${SUPERUSER_PASSWORD}\nlocal.path = \(directory)\n[legacy]\npostgres.database = legacy\n"
        }, environment: ["SUPERUSER_PASSWORD": server.superuserPassword])
        defer { cli.cleanUp() }
        let fixtures = "\(Paths.root)/Tests/Fixtures/manifest-v1"
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtures) {
            try FileManager.default.copyItem(atPath: "\(fixtures)/\(name)", toPath: cli.path(name))
        }

        let listed = try await cli.listed()
        #expect(listed.count == 1)
        #expect(listed.first?["file"] as? String == Self.file)
        #expect(listed.first?["compressor"] as? String == "gzip" && listed.first?["stages"] as? [String] == ["gzip"])

        let verified = try await cli.run("verify")
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("2 of 2 tables match"), "\(verified.stdout)")

        let restored = try await cli.run("restore", "--to-database", "legacy_again")
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try await server.psql("""
            SELECT concat_ws('|', (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM customers t),
                (SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM orders t),
                obj_description('customers'::regclass),
                (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()),
                (SELECT relacl::text FROM pg_class WHERE relname = 'customers'))
            """, database: "legacy_again") == [
            "92488203e3525a5469e4c4d564dcc36e", "da657cc225ce61c3db1abfac1458ffae",
            "made by the release before the chain of stages", "legacy_owner",
            "{legacy_owner=arwdDxt/legacy_owner,legacy_reader=r/legacy_owner}",
        ].joined(separator: "|"))
        try await server.psql("DROP DATABASE legacy_again")
    }
}
