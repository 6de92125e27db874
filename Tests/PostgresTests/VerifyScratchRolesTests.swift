import Foundation
import Testing
import TestSupport

/// verify's scratch restore onto a server without the backup's roles creates them for the restore, then
/// drops them with the scratch database: the server is left as verify found it.
@Suite struct VerifyScratchRolesTests {
    @Test func verifyDropsTheRolesItsScratchRestoreCreated() async throws {
        let server = try await PostgresServer.shared
        try await server.psql("CREATE ROLE vsr_owner NOLOGIN; CREATE ROLE vsr_reader NOLOGIN")
        try await server.psql("CREATE DATABASE vsr_app OWNER vsr_owner")
        try await server.psql("SET ROLE vsr_owner; CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2); GRANT SELECT ON t TO vsr_reader",
                              database: "vsr_app")
        let cli = try await BackupCLI.asSuperuser(label: "vsr", database: "vsr_app")
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)

        // verify.* sends the scratch restore to a new cluster, which has neither role.
        let cluster = try await FreshCluster.start(superuser: "admin")
        defer { cluster.stop() }
        let passwordFile = "\(cli.directory)/fresh-password"
        _ = FileManager.default.createFile(atPath: passwordFile, contents: Data(cluster.password.utf8), attributes: [.posixPermissions: 0o600])
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8)
             + "verify.host = 127.0.0.1\nverify.port = \(cluster.port)\nverify.user = admin\nverify.password_file = \(passwordFile)\n")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let before = try await cluster.rolesAndDatabases()
        #expect(!before.contains("vsr_"))

        let verified = try await cli.run("verify", "--log-level", "info")
        #expect(verified.status == 0 && verified.stdout.contains("1 of 1 tables match"), "\(verified.stdout) \(verified.stderr)")
        // It did create them (the restore needs the owner and the grantee), and says it dropped them.
        #expect(verified.stderr.contains("dropped the roles it created (vsr_owner, vsr_reader)"), "\(verified.stderr)")
        #expect(try await cluster.rolesAndDatabases() == before)
    }
}
