import Foundation
import Testing
import TestSupport

/// `--json` on the commands that report, each an object with `version` 1, as README documents them: copy,
/// verify and restore (its outcome, its dry run, and its failure), against the shared server and moto.
@Suite struct JSONOutputTests {
    @Test func copyVerifyAndRestoreReportAsJSON() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("json_out", rows: 30)
        let bucket = try await moto.makeBucket("json-out")
        let cli = try await BackupCLI(label: "json-out", config: {
            server.config(database: "json_out", directory: $0, extra: "s3.bucket = \(bucket)")
        }, environment: moto.environment)
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        try (config + "\ndestination = local, s3\n").write(toFile: cli.configPath, atomically: true, encoding: .utf8)

        let copied = try object(try await cli.run("copy", "--from", "local", "--to", "s3", "--json"))
        let first = try #require((copied["copied"] as? [[String: Any]])?.first)
        #expect(copied["version"] as? Int == 1 && copied["job"] as? String == "app" && copied["to"] as? String == "s3")
        #expect((first["location"] as? String)?.hasPrefix("s3://\(bucket)/") == true, "\(copied)")
        let again = try object(try await cli.run("copy", "--from", "local", "--to", "s3", "--json"))
        let file = try #require(first["file"] as? String)
        #expect((again["copied"] as? [Any])?.isEmpty == true && (again["present"] as? [String]) == [file])

        let verified = try object(try await cli.run("verify", "--from", "s3", "--json"))
        let backup = try #require((verified["backups"] as? [[String: Any]])?.first)
        let tables = try #require(backup["tables"] as? [[String: Any]])
        #expect(verified["version"] as? Int == 1 && verified["ok"] as? Bool == true && backup["result"] as? String == "passed")
        #expect(!tables.isEmpty && tables.allSatisfy { $0["matches"] as? Bool == true && $0["restored"] as? Int != nil })

        let dry = try object(try await cli.run("restore", "--to-database", "json_out_copy", "--dry-run", "--json"))
        #expect(dry["ok"] as? Bool == true && dry["dry_run"] as? Bool == true && dry["database"] == nil)
        #expect((dry["plan"] as? [String])?.isEmpty == false && (dry["checked"] as? [String])?.isEmpty == false)
        let restored = try object(try await cli.run("restore", "--to-database", "json_out_copy", "--json"))
        #expect(restored["ok"] as? Bool == true && restored["database"] as? String == "json_out_copy", "\(restored)")
        #expect(restored["tables"] as? Int == tables.count && restored["id"] as? String == backup["id"] as? String)
        #expect((restored["rows"] as? Int ?? 0) > 30 && restored["seconds"] is Double)
        let result = try await cli.run("restore", "--to-database", "json_out_copy", "--json")
        #expect(result.status == 1)
        let refused = try object(result, status: 1)
        #expect(refused["ok"] as? Bool == false && (refused["error"] as? String)?.contains("already exists") == true)
        try await server.psql("DROP DATABASE json_out_copy")
    }

    private func object(_ result: Shell.Result, status: Int32 = 0) throws -> [String: Any] {
        try #require(result.status == status, "\(result.stdout)\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                            "\(result.stdout)")
    }
}
