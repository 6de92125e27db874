import Age
import Engine
import Foundation
import Testing
import TestSupport

/// `restore --server`: a whole-server job's run put back onto a brand-new cluster whose superuser is not
/// `postgres`, from the second of two destinations, through age encryption: every role with its attributes,
/// memberships and (with `postgres.role_passwords = include`) its password, every database equal to its
/// source; a database that cannot be restored fails alone and is named.
@Suite struct ServerRestoreTests {
    static let roles = """
        CREATE ROLE srvr_reader NOLOGIN;
        CREATE ROLE srvr_owner LOGIN CREATEDB CONNECTION LIMIT 5 VALID UNTIL '2031-01-01 00:00:00+00'
            PASSWORD 'owner-Pw-1';
        COMMENT ON ROLE srvr_owner IS 'owns the apps';
        CREATE ROLE srvr_app LOGIN PASSWORD 'app-Pw-2' IN ROLE srvr_reader;
        CREATE ROLE srvr_repl LOGIN REPLICATION NOINHERIT;
        CREATE ROLE srvr_unused NOLOGIN;
        ALTER ROLE srvr_unused SET work_mem = '12MB';
        GRANT srvr_reader TO srvr_owner WITH ADMIN OPTION;
        GRANT pg_read_all_settings TO srvr_app;
        """
    /// Databases with awkward names, each owned by `srvr_owner` with a table its reader may read.
    static let databases = ["srvr app", "srvr-ünï", #"srvr "q""#, "9srvr"]

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// Roles (srvr_*) as the server describes them, and their memberships with their options (16+).
    static let roleFacts = """
        SELECT string_agg(format('%s %s %s %s %s %s %s %s %s %s %s', rolname, rolsuper, rolinherit, rolcreaterole,
            rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil, rolconfig),
            E'\\n' ORDER BY rolname)
        || E'\\n' || (SELECT string_agg(format('%s in %s admin %s inherit %s set %s', pg_get_userbyid(member),
            pg_get_userbyid(roleid), admin_option, to_jsonb(m)->>'inherit_option', to_jsonb(m)->>'set_option'),
            E'\\n' ORDER BY 1) FROM pg_auth_members m WHERE pg_get_userbyid(member) LIKE 'srvr%')
        || E'\\n' || (SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = 'srvr_owner')
        FROM pg_roles WHERE rolname LIKE 'srvr%'
        """

    @Test(.timeLimit(.minutes(10))) func aWholeRunRestoresOntoAFreshCluster() async throws {
        let source = try await FreshCluster.start(superuser: "postgres")
        defer { source.stop() }
        let target = try await FreshCluster.start(superuser: "boss")
        defer { target.stop() }
        try await source.psql(Self.roles)
        let space = "\(source.directory)/srvr_space"
        let made = try await Shell.sh("mkdir -p \(Shell.quote(space)) && chown postgres \(Shell.quote(space))")
        #expect(made.status == 0, "\(made.stderr)")
        try await source.psql("CREATE TABLESPACE srvr_space LOCATION '\(space)'")
        for name in Self.databases + ["srvr spaced"] {
            try await source.psql("CREATE DATABASE \(Self.quoted(name)) OWNER srvr_owner")
            try await source.psql("""
                SET ROLE srvr_owner;
                CREATE TABLE t (id int PRIMARY KEY, note text);
                INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 500) g;
                GRANT SELECT ON t TO srvr_reader;
                """, database: name)
        }
        try await source.psql("ALTER TABLE t SET TABLESPACE srvr_space", database: "srvr spaced")
        // The maintenance database is backed up too; every target has one already.
        try await source.psql("CREATE TABLE kept AS SELECT 42 AS answer")

        let keys = try Paths.temporaryDirectory("server-restore-keys")
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let (identity, recipient) = AgeKeys.generate()
        FileManager.default.createFile(atPath: "\(keys)/identity", contents: Data("\(identity)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        let cli = try await BackupCLI(label: "server-restore", config: { backups in
            Self.config(port: source.port, user: "postgres", backups: backups, extra: """
                encryption = age
                age.recipients = \(recipient)
                postgres.role_passwords = include
                """, include: "srvr*, 9srvr, postgres")
        }, environment: ["SOURCE_PASSWORD": source.password])
        defer { cli.cleanUp() }
        // Password hashes are secrets: without encryption the job is refused when loaded.
        let plainConfig = "\(cli.directory)/plain.conf"
        try Self.config(port: source.port, user: "postgres", backups: cli.backups,
                        extra: "postgres.role_passwords = include")
            .write(toFile: plainConfig, atomically: true, encoding: .utf8)
        let refused = try await Shell.run(Paths.backup, ["check-config", "--config", plainConfig],
                                          environment: cli.environment)
        #expect(refused.status == 78 && refused.stderr.contains("postgres.role_passwords")
                && refused.stderr.contains("must be encrypted"), "\(refused.stderr)")
        let backedUp = try await cli.run("now")
        #expect(backedUp.status == 0, "\(backedUp.stderr)")
        // The roles document is encrypted like a dump (at both destinations).
        for directory in [cli.backups, cli.backups + "-b"] {
            let roles = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { JobName.isBackupFile($0, of: "fleet") }
            #expect(roles.count == 1 && roles[0].hasSuffix(".globals.zst.age"), "\(roles)")
            let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: "\(directory)/\(roles[0])")).read(upToCount: 21)
            #expect(head.map { String(decoding: $0, as: UTF8.self) } == "age-encryption.org/v1")
        }

        let restoreConfig = "\(cli.directory)/restore.conf"
        try FileManager.default.createFile(atPath: "\(cli.directory)/target-password",
                                           contents: Data(target.password.utf8), attributes: [.posixPermissions: 0o600])
        try Self.config(port: target.port, user: "boss", backups: cli.backups, extra: """
            encryption = age
            age.identity_file = \(keys)/identity
            """, passwordFile: "\(cli.directory)/target-password")
            .write(toFile: restoreConfig, atomically: true, encoding: .utf8)
        let restored = try await Shell.run(Paths.backup, [
            "restore", "--config", restoreConfig, "--job", "fleet", "--server", "--from", "local@b",
            "--allow-privileged-roles", "--map-role", "postgres=boss", "--yes",
        ])
        // The database whose table lives in a tablespace the target lacks fails alone, and is named.
        #expect(restored.status == 1, "\(restored.stdout) \(restored.stderr)")
        #expect(restored.stderr.contains(#"1 of 6 databases not restored (the others are): "srvr spaced": "#)
                && restored.stderr.contains("tablespace srvr_space"), "\(restored.stderr)")
        #expect(restored.stdout.contains("tablespace srvr_space (owner postgres, at \(space) on the source)"),
                "\(restored.stdout)")
        #expect(restored.stdout.contains("create role srvr_app with its password from the backup"), "\(restored.stdout)")
        #expect(restored.stdout.contains("grant the predefined role pg_read_all_settings to srvr_app"), "\(restored.stdout)")
        for name in Self.databases {
            expectSameDump(try await Self.dump(name, target), try await Self.dump(name, source))
        }
        #expect(try await target.psql("SELECT count(*) FROM pg_database WHERE datname = 'srvr spaced'") == "0")
        // `postgres` was restored in place (--yes), the target's own kept beside it.
        #expect(try await target.psql("SELECT answer FROM kept") == "42")
        #expect(try await target.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'postgres_before_restore_%'")
                == "1")
        #expect(try await target.psql(Self.roleFacts) == (try await source.psql(Self.roleFacts)))
        #expect(try await target.psql("SELECT pg_has_role('srvr_app', 'pg_read_all_settings', 'MEMBER')") == "t")
        // A restored role logs in with its old password.
        var login = target.environment
        login["PGUSER"] = "srvr_app"
        login["PGPASSWORD"] = "app-Pw-2"
        let loggedIn = try await FreshCluster.psql("SELECT current_user || ' ' || count(*) FROM t",
                                                   database: "srvr app", environment: login)
        #expect(loggedIn == "srvr_app 500")
    }

    /// Without `role_passwords`, the plan names the roles that log in and have no password; `--database`
    /// restores a subset; a database the target has already is left alone without `--yes`.
    @Test(.timeLimit(.minutes(10))) func withoutPasswordsThePlanSaysWhichRolesNeedOne() async throws {
        let source = try await FreshCluster.start(superuser: "postgres")
        defer { source.stop() }
        let target = try await FreshCluster.start(superuser: "boss")
        defer { target.stop() }
        try await source.psql(Self.roles)
        for name in ["srvr one", "srvr two", "srvr three"] {
            try await source.psql("CREATE DATABASE \(Self.quoted(name)) OWNER srvr_owner")
            try await source.psql("SET ROLE srvr_owner; CREATE TABLE t AS SELECT 1 AS id", database: name)
        }
        let cli = try await BackupCLI(label: "server-restore-nopw", config: { backups in
            Self.config(port: source.port, user: "postgres", backups: backups, extra: "")
        }, environment: ["SOURCE_PASSWORD": source.password])
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        // Restored by a role that is not a superuser (CREATEROLE, CREATEDB), two databases at once: each
        // database's restore acts as the roles through memberships the server's part lends it throughout.
        try await target.psql("CREATE ROLE restorer LOGIN CREATEDB CREATEROLE PASSWORD 'restorer-Pw-3'")
        try await target.psql(#"CREATE DATABASE "srvr two" OWNER restorer"#)
        let config = "\(cli.directory)/restore.conf"
        try FileManager.default.createFile(atPath: "\(cli.directory)/target-password",
                                           contents: Data("restorer-Pw-3".utf8), attributes: [.posixPermissions: 0o600])
        try Self.config(port: target.port, user: "restorer", backups: cli.backups, extra: "",
                        passwordFile: "\(cli.directory)/target-password")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let restored = try await Shell.run(Paths.backup, [
            "restore", "--config", config, "--server", "--job", "fleet", "--database", "srvr t*", "--database", "srvr o*",
            "--map-role", "postgres=boss",
        ])
        #expect(restored.status == 1, "\(restored.stdout) \(restored.stderr)")
        #expect(restored.stdout.contains("the backup has no passwords (postgres.role_passwords = exclude): set one for"
            + " each created role that logs in: srvr_app, srvr_owner, srvr_repl"), "\(restored.stdout)")
        #expect(restored.stdout.contains("create role srvr_repl without a password (LOGIN); NOT REPLICATION"),
                "\(restored.stdout)")
        #expect(restored.stdout.contains(#"NOT database "srvr two": it exists on the target; pass --yes"#),
                "\(restored.stdout)")
        #expect(try await target.psql("SELECT count(*) FROM pg_database WHERE datname = 'srvr three'") == "1",
                "\(restored.stdout) \(restored.stderr)")
        #expect(try await target.psql(#"SELECT count(*) FROM t"#, database: "srvr three") == "1")
        #expect(try await target.psql("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'srvr_app'") == "t")
        // Without --allow-privileged-roles: no REPLICATION, no predefined role; and no borrowed membership left.
        #expect(try await target.psql("SELECT rolreplication FROM pg_roles WHERE rolname = 'srvr_repl'") == "f")
        #expect(try await target.psql("SELECT pg_has_role('srvr_app', 'pg_read_all_settings', 'MEMBER')") == "f")
        #expect(try await target.psql("""
            SELECT count(*) FROM pg_auth_members WHERE member = 'restorer'::regrole
              AND grantor = 'restorer'::regrole
            """) == "0")
        for name in ["srvr one", "srvr three"] {
            expectSameDump(try await Self.dump(name, target), try await Self.dump(name, source))
        }
        // With --yes the existing one is restored in place, the previous kept beside it.
        let again = try await Shell.run(Paths.backup, [
            "restore", "--config", config, "--server", "--job", "fleet", "--database", "srvr two", "--yes",
        ])
        #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
        #expect(try await target.psql(#"SELECT count(*) FROM t"#, database: "srvr two") == "1")
        #expect(try await target.psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'srvr two_before_restore_%'")
                == "1")
    }

    /// A job `fleet` of the whole server on `port` as `user`, at two local destinations `a` (`backups`) and
    /// `b` (beside it), zstd.
    static func config(
        port: Int, user: String, backups: String, extra: String, passwordFile: String? = nil, include: String = "srvr*"
    ) -> String {
        try? FileManager.default.createDirectory(atPath: backups + "-b", withIntermediateDirectories: true)
        return """
        postgres.host = 127.0.0.1
        parallel = 2
        postgres.port = \(port)
        postgres.user = \(user)
        \(passwordFile.map { "postgres.password_file = \($0)" } ?? "postgres.password = ${SOURCE_PASSWORD}")
        destination = local@a, local@b
        local@a.path = \(backups)
        local@b.path = \(backups)-b
        compressor = zstd
        \(extra)

        [fleet]
        postgres.database = *
        postgres.include = \(include)
        """
    }

    /// The plain dump of `database` on `cluster`, for comparing.
    static func dump(_ database: String, _ cluster: FreshCluster) async throws -> String {
        try await PostgresServer.dumpForComparison(database, environment: cluster.environment)
    }
}
