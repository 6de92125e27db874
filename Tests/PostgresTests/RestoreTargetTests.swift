import Engine
import Foundation
import Testing
import TestSupport

/// A schema far larger than the sample's loses nothing that `pg_dump | psql` keeps, in either format, on
/// the same server and on a new cluster that has none of its roles.
@Suite struct LargeSchemaRestoreTests {
    @Test func aLargeSchemaLosesNothingPgDumpKeeps() async throws {
        let server = try await PostgresServer.shared
        try await server.psql(BigSchema.roles("big"))
        try await server.psql("CREATE DATABASE big_src OWNER big_own")
        try await server.psql(BigSchema.schema("big"), database: "big_src")
        let source = try await server.dumpForComparison("big_src")
        // pg_dump 17 and newer file large objects as `BLOB METADATA` and `BLOBS`, earlier ones as `BLOB`.
        for kind in ["Type: BLOB", "Type: PUBLICATION;", "Type: STATISTICS;", "Type: POLICY;", "Type: RULE;", "Type: USER MAPPING;",
                     "INHERITS (stock.child_a, stock.child_b)", "ATTACH PARTITION sales.orders_2024_other DEFAULT", "Type: MATERIALIZED VIEW;",
                     "Type: DEFAULT ACL;", "UPDATE(price) ON TABLE stock.t1 TO big_ro", "Type: EXTENSION;"] {
            #expect(source.contains(kind), "the schema has no \(kind)")
        }
        #expect(try await server.psql("SELECT count(*) >= 300 FROM pg_tables WHERE schemaname IN ('sales', 'stock', 'audit')",
                                      database: "big_src") == "t")

        // What pg_dump | psql gives, as a person would run it.
        try await server.psql("CREATE DATABASE big_ref OWNER big_own")
        let piped = try await Shell.run("/bin/bash", ["-o", "pipefail", "-c", "pg_dump big_src | psql -X -q -v ON_ERROR_STOP=1 -d big_ref > /dev/null"],
                                        environment: server.superuserEnvironment)
        #expect(piped.status == 0, "\(piped.stderr)")
        let reference = try await server.dumpForComparison("big_ref")

        for format in ["plain", "custom"] {
            let cli = try await BackupCLI.asSuperuser(label: "big-\(format)", database: "big_src", extra: "postgres.format = \(format)")
            defer { cli.cleanUp() }
            let made = try await cli.run("now")
            #expect(made.status == 0, "\(made.stderr)")
            let restored = try await cli.run("restore", "--to-database", "big_\(format)")
            #expect(restored.status == 0, "\(restored.stderr)")
            expectSameDump(try await server.dumpForComparison("big_\(format)"), reference)

            let cluster = try await FreshCluster.start(superuser: "admin")
            defer { cluster.stop() }
            let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
            let fresh = try await cluster.restore(cli, file: file, into: "big_src")
            #expect(fresh.status == 0, "\(fresh.stderr)")
            #expect(fresh.stdout.contains("Created roles (no passwords; set them): big_app, big_lo, big_own, big_ro"), "\(fresh.stdout)")
            expectSameDump(try await PostgresServer.dumpForComparison("big_src", environment: cluster.environment), reference)
        }
        expectSameDump(reference, source)
    }
}

/// What the target cannot have (a tablespace, ICU) stops the restore before it creates anything, naming the
/// property and the option that does without it; and SIGTERM mid-restore drops the roles the restore had created.
@Suite struct RestoreTargetTests {
    @Test func aTablespaceOrICUTheTargetLacksStopsTheRestoreBeforeAnythingIsCreated() async throws {
        let server = try await PostgresServer.shared
        let spaces = try Paths.temporaryDirectory("tablespaces")
        defer { try? FileManager.default.removeItem(atPath: spaces) }
        #expect(try await Shell.sh("mkdir \(spaces)/db \(spaces)/obj \(spaces)/fresh && chown postgres \(spaces)/db \(spaces)/obj \(spaces)/fresh").status == 0)
        try await server.psql("CREATE TABLESPACE fidt_dbspace LOCATION '\(spaces)/db'")
        try await server.psql("CREATE TABLESPACE fidt_objspace LOCATION '\(spaces)/obj'")
        try await server.psql("CREATE ROLE fidt_own NOLOGIN")
        try await server.psql("CREATE DATABASE fidt_app OWNER fidt_own TABLESPACE fidt_dbspace TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'de-DE'")
        try await server.psql("CREATE TABLE t (x int) TABLESPACE fidt_objspace; ALTER TABLE t OWNER TO fidt_own; INSERT INTO t VALUES (1), (2)",
                              database: "fidt_app")
        let cli = try await BackupCLI.asSuperuser(label: "fidt", database: "fidt_app")
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        let cluster = try await FreshCluster.start(superuser: "admin")
        defer { cluster.stop() }
        let before = try await cluster.rolesAndDatabases()
        func restore(_ extra: String...) async throws -> Shell.Result {
            try await cluster.restore(cli, file: file, into: "fidt_app", extra)
        }

        let noObjectSpace = try await restore()
        #expect(noObjectSpace.status == 1)
        #expect(noObjectSpace.stderr.contains("tablespace fidt_objspace, which objects in the backup live in, does not exist on 127.0.0.1:\(cluster.port); create it there"),
                "\(noObjectSpace.stderr)")
        #expect(try await cluster.rolesAndDatabases() == before)

        try await cluster.psql("CREATE TABLESPACE fidt_objspace LOCATION '\(spaces)/fresh'")
        let noDatabaseSpace = try await restore()
        #expect(noDatabaseSpace.status == 1)
        #expect(noDatabaseSpace.stderr.contains("the source database's tablespace fidt_dbspace does not exist on 127.0.0.1:\(cluster.port); create it there or pass --tablespace pg_default"),
                "\(noDatabaseSpace.stderr)")
        #expect(try await cluster.rolesAndDatabases() == before)

        // A server without ICU has no ICU collations: what the restore checks, here made so by deleting them.
        try await cluster.psql("DELETE FROM pg_collation WHERE collprovider = 'i'")
        let noICU = try await restore("--tablespace", "pg_default")
        #expect(noICU.status == 1)
        let major = try await cluster.psql("SELECT current_setting('server_version_num')::int / 10000")
        #expect(noICU.stderr.contains("the database uses the ICU locale de-DE (locale provider icu), which 127.0.0.1:\(cluster.port) cannot provide (PostgreSQL \(major), built without ICU); pass --locale NAME"),
                "\(noICU.stderr)")
        #expect(try await cluster.rolesAndDatabases() == before)

        // With what the messages say to pass: a libc locale in place of the ICU one.
        let restored = try await restore("--tablespace", "pg_default", "--locale", "C.UTF-8")
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try await cluster.psql("""
            SELECT concat_ws('|', pg_get_userbyid(datdba), datlocprovider, datcollate, (SELECT spcname FROM pg_tablespace WHERE oid = dattablespace))
            FROM pg_database WHERE datname = 'fidt_app'
            """) == "fidt_own|c|C.UTF-8|pg_default")
        #expect(try await FreshCluster.psql("SELECT tablespace FROM pg_tables WHERE tablename = 't'", database: "fidt_app",
                                            environment: cluster.environment) == "fidt_objspace")
        try await cluster.psql("DROP DATABASE fidt_app")
        try await cluster.psql("DROP TABLESPACE fidt_objspace")
        try await server.psql("DROP DATABASE fidt_app")
        try await server.psql("DROP TABLESPACE fidt_objspace")
        try await server.psql("DROP TABLESPACE fidt_dbspace")
    }

    @Test func sigtermDuringARestoreDropsTheRolesItCreated() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("fid_sig", rows: 60_000)
        let cli = try await BackupCLI.asSuperuser(label: "fid-sig", database: "fid_sig")
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        let cluster = try await FreshCluster.start(superuser: "admin")
        defer { cluster.stop() }
        let config = try cluster.restoreConfig(in: cli.directory, backups: cli.backups)
        let before = try await cluster.rolesAndDatabases()
        // The sample database is owned by `backup`, a role the new cluster lacks: SIGTERM once it exists.
        let result = try await Shell.run("/bin/bash", ["-c", """
            '\(Paths.backup)' restore --config '\(config)' --backup '\(cli.backups)/\(file)' --to-database fid_sig & pid=$!
            found=0
            for i in $(seq 1 600); do
                if [ -n "$(psql -X -At -c "SELECT 1 FROM pg_roles WHERE rolname = 'backup'")" ]; then found=1; break; fi
                sleep 0.05
            done
            echo "found=$found"; kill -TERM $pid; wait $pid; echo "status=$?"
            """], environment: cluster.environment)
        #expect(result.stdout.contains("found=1"), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("status=143"), "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("the restore was undone: dropped database fid_sig; dropped the roles it created (backup)"), "\(result.stderr)")
        #expect(try await cluster.rolesAndDatabases() == before)
    }
}

/// An object only a superuser may own (a foreign-data wrapper owned by the source's `postgres`), restored
/// onto a cluster whose superuser is `admin`: the role is recreated without SUPERUSER by default, the load
/// fails, and the one error line names both options that fix it; with `--map-role postgres=admin` its
/// objects go to `admin` and no `postgres` is created, with `--allow-privileged-roles` it is created a
/// superuser.
@Suite struct SuperuserOwnedObjectTests {
    @Test func theErrorLineNamesBothOptionsAndMapRoleRestoresIt() async throws {
        let server = try await PostgresServer.shared
        try await server.psql("CREATE DATABASE su_fdw")
        try await server.psql("CREATE FOREIGN DATA WRAPPER su_useless; CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2)", database: "su_fdw")
        let cli = try await BackupCLI.asSuperuser(label: "su-fdw", database: "su_fdw")
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        let cluster = try await FreshCluster.start(superuser: "admin")
        defer { cluster.stop() }
        let before = try await cluster.rolesAndDatabases()

        let failed = try await cluster.restore(cli, file: file, into: "su_fdw")
        #expect(failed.status == 1)
        let line = failed.stderr.split(separator: "\n").last { $0.hasPrefix("backup: ") }.map(String.init) ?? ""
        #expect(line.contains("foreign-data wrapper") && line.contains("the source's postgres was a superuser")
                && line.contains("pass --allow-privileged-roles") && line.contains("--map-role postgres=ROLE"), "\(failed.stderr)")
        #expect(try await cluster.rolesAndDatabases() == before, "the failed restore left nothing")

        // The objects go to the cluster's own superuser instead; no role postgres is created.
        let mapped = try await cluster.restore(cli, file: file, into: "su_mapped", ["--map-role", "postgres=admin"])
        #expect(mapped.status == 0, "\(mapped.stderr)")
        #expect(try await cluster.psql("""
            SELECT (SELECT pg_get_userbyid(fdwowner) FROM pg_foreign_data_wrapper WHERE fdwname = 'su_useless') || ' '
                || (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 't') || ' '
                || (SELECT count(*) FROM pg_roles WHERE rolname = 'postgres') || ' ' || (SELECT sum(x) FROM t)
            """, database: "su_mapped") == "admin admin 0 3")

        // Verify on this cluster (no role postgres here) needs the same mapping.
        let config = "\(cli.directory)/verify-on-fresh.conf"
        try """
            postgres.host = 127.0.0.1
            postgres.port = \(cluster.port)
            postgres.user = admin
            postgres.password = ${FRESH_PASSWORD}
            local.path = \(cli.backups)
            \(cluster.clients.map { "postgres.pg_dump = \($0)/pg_dump" } ?? "")
            [app]
            postgres.database = su_fdw

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let environment = ["FRESH_PASSWORD": cluster.password]
        let unmapped = try await Shell.run(Paths.backup, ["verify", "--config", config], environment: environment)
        #expect(unmapped.status == 1 && unmapped.stdout.contains("RESTORE FAILED"), "\(unmapped.stdout)\(unmapped.stderr)")
        let verified = try await Shell.run(Paths.backup, ["verify", "--config", config, "--map-role", "postgres=admin"], environment: environment)
        #expect(verified.status == 0 && verified.stdout.contains("1 of 1 tables match"), "\(verified.stdout)\(verified.stderr)")

        let restored = try await cluster.restore(cli, file: file, into: "su_fdw", ["--allow-privileged-roles"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try await cluster.psql("SELECT pg_get_userbyid(fdwowner) FROM pg_foreign_data_wrapper WHERE fdwname = 'su_useless'",
                                       database: "su_fdw") == "postgres")
    }
}

/// The builtin locale provider (PostgreSQL 17 and newer): a database using it comes back with it on a
/// fresh cluster; a server older than 17 refuses it before anything is created, naming --locale.
@Suite struct BuiltinLocaleTests {
    @Test func theBuiltinProviderComesBackOrIsRefusedBefore17() async throws {
        let server = try await PostgresServer.shared
        let major = Int(try await server.psql("SELECT current_setting('server_version_num')::int / 10000")) ?? 0
        let cli: BackupCLI
        if major >= 17 {
            try await server.psql("CREATE DATABASE bl_app TEMPLATE template0 LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'")
            try await server.psql("CREATE TABLE t (x text); INSERT INTO t VALUES ('Ärger'), ('b')", database: "bl_app")
            cli = try await BackupCLI.asSuperuser(label: "builtin", database: "bl_app")
            #expect(try await cli.run("now").status == 0)
        } else {
            // Before 17 no database can use it: a backup of a 17 server's, as its globals would say.
            try await server.psql("CREATE DATABASE bl_app TEMPLATE template0")
            cli = try await BackupCLI.asSuperuser(label: "builtin", database: "bl_app")
            #expect(try await cli.run("now").status == 0)
            let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
            let sidecar = cli.path("\(file).globals.json")
            var globals = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sidecar))) as? [String: Any])
            globals["locale_provider"] = "builtin"
            globals["builtin_locale"] = "C.UTF-8"
            let planted = "\(cli.directory)/builtin-globals.json"
            try JSONSerialization.data(withJSONObject: globals).write(to: URL(fileURLWithPath: planted))
            try cli.plantGlobals(of: file, from: planted)
        }
        defer { cli.cleanUp() }
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        let cluster = try await FreshCluster.start(superuser: "admin")
        defer { cluster.stop() }
        let restored = try await cluster.restore(cli, file: file, into: "bl_app")
        if major >= 17 {
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try await cluster.psql("SELECT datlocprovider::text || '|' || datlocale FROM pg_database WHERE datname = 'bl_app'") == "b|C.UTF-8")
        } else {
            #expect(restored.status == 1 && restored.stderr.contains("uses the builtin locale provider (C.UTF-8), which PostgreSQL \(major)")
                    && restored.stderr.contains("pass --locale NAME"), "\(restored.stderr)")
            #expect(try await cluster.psql("SELECT count(*) FROM pg_database WHERE datname = 'bl_app'") == "0")
        }
    }
}
