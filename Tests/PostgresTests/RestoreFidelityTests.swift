import Engine
import Foundation
import Testing
import TestSupport

/// A restore gives back the database exactly as it was: every role it needs, every database property, on a
/// new cluster whose superuser is not `postgres`, as that superuser or as a role with only CREATEDB and
/// CREATEROLE; and a failed restore leaves nothing behind.
@Suite struct RestoreFidelityTests {
    /// A database with what production databases carry and `pg_dump` leaves out, backed up once.
    struct Source {
        let cli: BackupCLI
        let database: String
        let prefix: String
        let file: String
        let facts: [String]
        let dump: String

        static func make(_ prefix: String, extra: String = "") async throws -> Source {
            let server = try await PostgresServer.shared
            let db = "\(prefix)_app"
            try await server.psql("""
                CREATE ROLE \(prefix)_own NOLOGIN; CREATE ROLE \(prefix)_reader NOLOGIN; CREATE ROLE \(prefix)_pol NOLOGIN;
                CREATE ROLE \(prefix)_col NOLOGIN; CREATE ROLE \(prefix)_def NOLOGIN; CREATE ROLE \(prefix)_su SUPERUSER NOLOGIN;
                CREATE ROLE \(prefix)_member LOGIN CONNECTION LIMIT 3 VALID UNTIL '2031-01-01 00:00:00+00';
                GRANT \(prefix)_own TO \(prefix)_member WITH ADMIN OPTION;
                COMMENT ON ROLE \(prefix)_reader IS 'reads ''everything''';
                ALTER ROLE \(prefix)_member SET statement_timeout = '5s';
                """)
            if try await server.psql("SHOW server_version_num").compare("160000", options: .numeric) != .orderedAscending {
                // From 16 a membership has its own INHERIT and SET: one that has neither.
                try await server.psql("GRANT \(prefix)_reader TO \(prefix)_member WITH INHERIT FALSE, SET FALSE")
            }
            try await server.psql("CREATE DATABASE \(db) OWNER \(prefix)_own TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' CONNECTION LIMIT 7")
            try await server.psql("""
                REVOKE ALL ON DATABASE \(db) FROM PUBLIC; GRANT CONNECT ON DATABASE \(db) TO \(prefix)_reader;
                ALTER DATABASE \(db) SET search_path = "$user", public, extra;
                ALTER ROLE \(prefix)_reader IN DATABASE \(db) SET work_mem = '16MB';
                COMMENT ON DATABASE \(db) IS 'the app''s database';
                """)
            try await server.psql("""
                SET ROLE \(prefix)_own;
                CREATE SCHEMA extra;
                CREATE TABLE items (id int PRIMARY KEY, name text COLLATE "de-DE-x-icu", secret text);
                INSERT INTO items SELECT g, 'Ärger ' || g, md5(g::text) FROM generate_series(1, 200) g;
                ALTER TABLE items ENABLE ROW LEVEL SECURITY;
                CREATE POLICY some_items ON items TO \(prefix)_pol USING (id < 100);
                GRANT SELECT (id, name) ON items TO \(prefix)_col;
                ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO \(prefix)_def;
                RESET ROLE;
                GRANT SELECT ON items TO \(prefix)_su;
                """, database: db)
            let cli = try await BackupCLI.asSuperuser(label: prefix, database: db, extra: extra)
            let made = try await cli.run("now")
            #expect(made.status == 0, "\(made.stderr)")
            let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
            return Source(cli: cli, database: db, prefix: prefix, file: file,
                          facts: try await DatabaseFacts.read(db, rolePrefix: prefix, environment: server.superuserEnvironment),
                          dump: try await server.dumpForComparison(db))
        }

        var path: String { "\(cli.backups)/\(file)" }

        /// The source's facts with its superuser role as a restore creates it by default: not a superuser.
        var factsWithoutSuperuser: [String] {
            facts.map { $0.hasPrefix("role|\(prefix)_su|t|") ? $0.replacingOccurrences(of: "role|\(prefix)_su|t|", with: "role|\(prefix)_su|f|") : $0 }
        }

        func restore(onto cluster: FreshCluster, as user: String? = nil, password: String? = nil, _ extra: String...) async throws -> Shell.Result {
            try await cluster.restore(cli, file: file, into: database, as: user, password: password, extra)
        }
    }

    @Test(arguments: ["plain", "custom"])
    func everyPropertyComesBackOnAFreshClusterWithAnotherSuperuser(format: String) async throws {
        let source = try await Source.make("fid\(format.prefix(1))", extra: "postgres.format = \(format)")
        defer { source.cli.cleanUp() }
        let cluster = try await FreshCluster.start(superuser: "admin")
        defer { cluster.stop() }
        #expect(try await cluster.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'") == "0")

        let result = try await source.restore(onto: cluster)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("create role \(source.prefix)_su without a password; NOT SUPERUSER as on the source: pass --allow-privileged-roles"),
                "\(result.stdout)")
        #expect(result.stdout.contains("create role \(source.prefix)_member without a password (LOGIN, CONNECTION LIMIT 3)"), "\(result.stdout)")
        let restored = try await DatabaseFacts.read(source.database, rolePrefix: source.prefix, environment: cluster.environment)
        #expect(restored == source.factsWithoutSuperuser, "\(restored.difference(from: source.factsWithoutSuperuser))")
        #expect(restored.contains { $0.hasPrefix("database|\(source.prefix)_own|UTF8|C.UTF-8|C.UTF-8|i|de-DE|7|t|f|the app's database|") })
        expectSameDump(try await PostgresServer.dumpForComparison(source.database, environment: cluster.environment), source.dump)
        // The list-valued setting is a list again: a new session sees three schemas, not one quoted name.
        #expect(try await FreshCluster.psql("SHOW search_path", database: source.database, environment: cluster.environment)
                == "\"$user\", public, extra")

        // A cluster like a managed service's: restored by a role with CREATEDB and CREATEROLE only.
        let managed = try await FreshCluster.start(superuser: "admin")
        defer { managed.stop() }
        try await managed.psql("CREATE ROLE restorer LOGIN CREATEDB CREATEROLE PASSWORD 'restorer-Pass-7'")
        let byRestorer = try await source.restore(onto: managed, as: "restorer", password: "restorer-Pass-7")
        #expect(byRestorer.status == 0, "\(byRestorer.stderr)")
        let restoredByRestorer = try await DatabaseFacts.read(source.database, rolePrefix: source.prefix, environment: managed.environment,
                                                              restorer: "restorer")
        #expect(restoredByRestorer == source.factsWithoutSuperuser, "\(restoredByRestorer.difference(from: source.factsWithoutSuperuser))")
        expectSameDump(try await PostgresServer.dumpForComparison(source.database, environment: managed.environment), source.dump)
        // From 16 on, creating a role gives its creator an ADMIN-only membership in it, granted by the
        // bootstrap superuser (oid 10); what the restore borrowed it granted itself, and gives back.
        #expect(try await managed.psql("SELECT count(*) FROM pg_auth_members WHERE member = 'restorer'::regrole AND grantor <> 10") == "0",
                "the memberships the restorer borrowed are given back")
        if try await managed.psql("SHOW server_version_num").compare("160000", options: .numeric) != .orderedAscending {
            #expect(try await managed.psql("""
                SELECT count(*) FROM pg_auth_members WHERE member = 'restorer'::regrole AND (inherit_option OR set_option OR NOT admin_option)
                """) == "0", "only PostgreSQL's own ADMIN-only grants remain")
        }
    }

    /// On the same server: `--to-database` gives a copy with the same properties, and in place puts back the
    /// properties the backup recorded after they were changed.
    @Test(arguments: ["plain", "custom"])
    func everyPropertyComesBackOnTheSameServer(format: String) async throws {
        let source = try await Source.make("fids\(format.prefix(1))", extra: "postgres.format = \(format)")
        defer { source.cli.cleanUp() }
        let server = try await PostgresServer.shared
        let copy = try await source.cli.run("restore", "--to-database", "\(source.database)_copy")
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(!copy.stdout.contains("create role"), "every role exists already: \(copy.stdout)")
        let copied = try await DatabaseFacts.read("\(source.database)_copy", rolePrefix: source.prefix, environment: server.superuserEnvironment)
        #expect(copied == source.facts, "\(copied.difference(from: source.facts))")

        try await server.psql("""
            ALTER DATABASE \(source.database) SET search_path = public; ALTER DATABASE \(source.database) CONNECTION LIMIT 2;
            GRANT ALL ON DATABASE \(source.database) TO PUBLIC; COMMENT ON DATABASE \(source.database) IS 'changed';
            ALTER ROLE \(source.prefix)_reader IN DATABASE \(source.database) RESET work_mem;
            """)
        #expect(try await DatabaseFacts.read(source.database, rolePrefix: source.prefix, environment: server.superuserEnvironment) != source.facts)
        let inPlace = try await source.cli.run("restore", "--yes", "--drop-previous")
        #expect(inPlace.status == 0, "\(inPlace.stderr)")
        let restored = try await DatabaseFacts.read(source.database, rolePrefix: source.prefix, environment: server.superuserEnvironment)
        #expect(restored == source.facts, "\(restored.difference(from: source.facts))")
        expectSameDump(try await server.dumpForComparison(source.database), source.dump)
    }

    /// A restore that fails after it created roles and the database drops them all again and says so; the
    /// same backup restored whole with --allow-privileged-roles gives the superuser role its SUPERUSER.
    @Test func aFailedRestoreLeavesNoRoleAndNoDatabase() async throws {
        let source = try await Source.make("fidf", extra: "compressor = none")
        defer { source.cli.cleanUp() }
        let cluster = try await FreshCluster.start(superuser: "admin")
        defer { cluster.stop() }
        let before = try await cluster.rolesAndDatabases()

        let good = try String(contentsOfFile: source.path, encoding: .utf8)
        let manifestPath = source.path + Manifest.suffix
        let goodManifest = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
        let copy = try #require(good.range(of: "COPY public.items"))
        var broken = good
        broken.insert(contentsOf: "THIS IS NOT SQL;\n", at: copy.lowerBound)
        try broken.write(toFile: source.path, atomically: true, encoding: .utf8)
        let sum = String(try await Shell.sh("sha256sum '\(source.path)'").stdout.prefix(64))
        var manifest = try JSONSerialization.jsonObject(with: goodManifest) as! [String: Any]
        manifest["sha256"] = sum
        manifest["stored_bytes"] = broken.utf8.count
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))

        let failed = try await source.restore(onto: cluster)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("the restore was undone: dropped database \(source.database); dropped the roles it created (\(source.prefix)_"),
                "\(failed.stderr)")
        #expect(try await cluster.rolesAndDatabases() == before)

        try good.write(toFile: source.path, atomically: true, encoding: .utf8)
        try goodManifest.write(to: URL(fileURLWithPath: manifestPath))
        let privileged = try await source.restore(onto: cluster, "--allow-privileged-roles")
        #expect(privileged.status == 0, "\(privileged.stderr)")
        #expect(privileged.stdout.contains("create role \(source.prefix)_su without a password (SUPERUSER)"), "\(privileged.stdout)")
        let restored = try await DatabaseFacts.read(source.database, rolePrefix: source.prefix, environment: cluster.environment)
        #expect(restored == source.facts, "\(restored.difference(from: source.facts))")
    }
}

/// A backup whose globals file the previous release wrote (format 1, pg_dumpall's lines) still restores
/// onto a new cluster, its list setting intact and its superuser role created without SUPERUSER.
@Suite struct Version1GlobalsRestoreTests {
    @Test func aVersion1GlobalsFileRestores() async throws {
        let server = try await PostgresServer.shared
        try await server.psql("CREATE ROLE v1_own NOLOGIN; CREATE ROLE v1_reader NOLOGIN; CREATE ROLE v1_su SUPERUSER LOGIN")
        try await server.psql("CREATE DATABASE v1_app OWNER v1_own")
        try await server.psql("SET ROLE v1_own; CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2); GRANT SELECT ON t TO v1_reader, v1_su",
                              database: "v1_app")
        let cli = try await BackupCLI.asSuperuser(label: "v1", database: "v1_app")
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let dump = try await server.dumpForComparison("v1_app")
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        try cli.plantGlobals(of: file, from: "\(Paths.root)/Tests/Fixtures/globals-v1.json")

        let cluster = try await FreshCluster.start(superuser: "admin")
        defer { cluster.stop() }
        let result = try await cluster.restore(cli, file: file, into: "v1_app")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Created roles (no passwords; set them): v1_own, v1_reader, v1_su"), "\(result.stdout)")
        expectSameDump(try await PostgresServer.dumpForComparison("v1_app", environment: cluster.environment), dump)
        #expect(try await cluster.psql("""
            SELECT concat_ws('|', pg_get_userbyid(datdba), (SELECT rolsuper FROM pg_roles WHERE rolname = 'v1_su'),
                has_database_privilege('v1_reader', 'v1_app', 'CONNECT'), shobj_description('v1_reader'::regrole, 'pg_authid'))
            FROM pg_database WHERE datname = 'v1_app'
            """) == "v1_own|f|t|reads")
        #expect(try await FreshCluster.psql("SHOW search_path", database: "v1_app", environment: cluster.environment)
                == "\"$user\", public, extra")
    }
}

/// The job's own role (CREATEDB, not CREATEROLE, not a superuser) verifies a database that grants to other
/// roles: it needs to act as none of them, so it borrows no membership and needs no CREATEROLE.
@Suite struct VerifyWithoutCreateRoleTests {
    @Test func verifyNeedsNoCreateRoleForGrantees() async throws {
        let server = try await PostgresServer.shared
        // A job role of this test's own, so what other tests grant the shared role meanwhile is not counted.
        let role = "fid_vg_job", password = "fid-vg-Job-4410"
        try await server.psql("CREATE ROLE \(role) LOGIN CREATEDB PASSWORD '\(password)'")
        try await server.psql("CREATE DATABASE fid_vg OWNER \(role)")
        try await server.psql("SET ROLE \(role);\n" + SampleData.schema(rows: 50), database: "fid_vg")
        try await server.psql("CREATE ROLE fid_vg_reader NOLOGIN")
        try await server.psql("SET ROLE \(role); GRANT SELECT ON customers TO fid_vg_reader; REVOKE ALL ON DATABASE fid_vg FROM PUBLIC",
                              database: "fid_vg")
        let cli = try await BackupCLI(label: "fid-vg", config: {
            server.config(database: "fid_vg", directory: $0).replacingOccurrences(of: "postgres.user = \(server.user)\n", with: "postgres.user = \(role)\n")
        }, environment: ["TEST_PGPASSWORD": password])
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let verified = try await cli.run("verify")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(verified.stdout.contains("2 of 2 tables match"))
        #expect(try await server.psql("SELECT count(*) FROM pg_auth_members WHERE member = '\(role)'::regrole OR roleid = '\(role)'::regrole") == "0")
    }
}
