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
