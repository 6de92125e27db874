import Foundation
import Testing
import TestSupport

/// `--map-role SOURCE=TARGET`: a restore (plain and custom) gives everything the source role owned, was
/// granted, granted, or is named in (policies, default privileges, user mappings, large objects, the
/// database itself, its per-role settings) to the target role, and leaves the source role with nothing;
/// the same name as data, in a function body, or as a table's name comes back unchanged. Verify takes it
/// too, and a mapping that names no role of the backup or no role of the target stops before anything.
@Suite struct RoleMapTests {
    static let database = "rm_app"

    /// Ownerships and privileges, `kind|object|roles`: only the last part names roles.
    static let facts = """
        SELECT kind || '|' || name || '|' || coalesce(roles, '-') FROM (
          SELECT 'class' kind, c.relnamespace::regnamespace || '.' || c.relname name,
                 pg_get_userbyid(c.relowner) || ' ' || coalesce(c.relacl::text, '-') roles
            FROM pg_class c WHERE c.relnamespace::regnamespace::text IN ('public', 'rm_s')
          UNION ALL SELECT 'schema', nspname, pg_get_userbyid(nspowner) || ' ' || coalesce(nspacl::text, '-')
            FROM pg_namespace WHERE nspname IN ('public', 'rm_s')
          UNION ALL SELECT 'function', proname || ':' || prosrc, pg_get_userbyid(proowner) || ' ' || coalesce(proacl::text, '-')
            FROM pg_proc WHERE pronamespace = 'rm_s'::regnamespace
          UNION ALL SELECT 'type', typname, pg_get_userbyid(typowner) FROM pg_type WHERE typnamespace = 'rm_s'::regnamespace
          UNION ALL SELECT 'large object', oid::text, pg_get_userbyid(lomowner) || ' ' || coalesce(lomacl::text, '-') FROM pg_largeobject_metadata
          UNION ALL SELECT 'wrapper', fdwname, pg_get_userbyid(fdwowner) || ' ' || coalesce(fdwacl::text, '-') FROM pg_foreign_data_wrapper
          UNION ALL SELECT 'server', srvname, pg_get_userbyid(srvowner) || ' ' || coalesce(srvacl::text, '-') FROM pg_foreign_server
          UNION ALL SELECT 'user mapping', srvname || ':' || umoptions::text, usename FROM pg_user_mappings
          UNION ALL SELECT 'policy', polname, (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END, ',' ORDER BY 1)
                                                FROM unnest(polroles) r) FROM pg_policy
          UNION ALL SELECT 'default acl', coalesce(defaclnamespace::regnamespace::text, '-') || ':' || defaclobjtype::text,
                 pg_get_userbyid(defaclrole) || ' ' || defaclacl::text FROM pg_default_acl
          UNION ALL SELECT 'database', '-', pg_get_userbyid(datdba) || ' ' || coalesce(datacl::text, '-')
            FROM pg_database WHERE datname = current_database()
          UNION ALL SELECT 'role setting', setconfig::text, pg_get_userbyid(setrole) FROM pg_db_role_setting
            WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole <> 0
        ) f ORDER BY 1
        """

    static func prepare(_ server: PostgresServer) async throws {
        try await server.psql("CREATE ROLE rm_src; CREATE ROLE rm_reader; CREATE ROLE rm_dst; GRANT rm_src TO rm_reader")
        try await server.psql("CREATE DATABASE \(database) OWNER rm_src")
        try await server.psql("GRANT CONNECT ON DATABASE \(database) TO rm_reader; ALTER ROLE rm_src IN DATABASE \(database) SET work_mem = '8MB'")
        try await server.psql("""
            CREATE SCHEMA rm_s AUTHORIZATION rm_src;
            CREATE TABLE rm_s.rm_src (id int PRIMARY KEY, note text);
            ALTER TABLE rm_s.rm_src OWNER TO rm_src;
            INSERT INTO rm_s.rm_src VALUES (1, 'ALTER TABLE t OWNER TO rm_src;'), (2, E'GRANT ALL ON t TO rm_src;\\n\\\\.');
            GRANT SELECT ON rm_s.rm_src TO rm_reader;
            CREATE TABLE public.other (x int);
            GRANT INSERT ON public.other TO rm_src WITH GRANT OPTION;
            SET ROLE rm_src; GRANT INSERT ON public.other TO rm_reader; RESET ROLE;
            CREATE FUNCTION rm_s.f() RETURNS text LANGUAGE sql AS $$ SELECT 'OWNER TO rm_src'::text $$;
            ALTER FUNCTION rm_s.f() OWNER TO rm_src;
            CREATE TYPE rm_s.mood AS ENUM ('ok');
            ALTER TYPE rm_s.mood OWNER TO rm_src;
            ALTER TABLE rm_s.rm_src ENABLE ROW LEVEL SECURITY;
            CREATE POLICY rm_p ON rm_s.rm_src FOR SELECT TO rm_src, rm_reader USING (note <> 'rm_src');
            ALTER DEFAULT PRIVILEGES FOR ROLE rm_src IN SCHEMA rm_s GRANT SELECT ON TABLES TO rm_reader;
            ALTER DEFAULT PRIVILEGES IN SCHEMA rm_s GRANT USAGE ON SEQUENCES TO rm_src;
            CREATE FOREIGN DATA WRAPPER rm_w;
            GRANT USAGE ON FOREIGN DATA WRAPPER rm_w TO rm_src;
            CREATE SERVER rm_srv FOREIGN DATA WRAPPER rm_w;
            ALTER SERVER rm_srv OWNER TO rm_src;
            CREATE USER MAPPING FOR rm_src SERVER rm_srv OPTIONS (user 'rm_src');
            SELECT lo_create(424242);
            ALTER LARGE OBJECT 424242 OWNER TO rm_src;
            COMMENT ON TABLE rm_s.rm_src IS 'owned by rm_src';
            CREATE TABLE public.bulk AS SELECT i, md5(i::text) AS h FROM generate_series(1, 100000) i;
            """, database: database)
    }

    /// The source's facts as they should read with `rm_src` given to `rm_dst`: roles only, never names.
    static func mapped(_ facts: String) -> String {
        facts.split(separator: "\n").map { line in
            let parts = line.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
            let roles = String(parts[2]).replacingOccurrences(of: #"\brm_src\b"#, with: "rm_dst", options: .regularExpression)
            return "\(parts[0])|\(parts[1])|\(roles)"
        }.sorted().joined(separator: "\n")
    }

    @Test(.timeLimit(.minutes(10))) func everyOwnershipAndGrantGoesToTheTargetRole() async throws {
        let server = try await PostgresServer.shared
        try await Self.prepare(server)
        let source = try await server.psql(Self.facts, database: Self.database)
        #expect(source.contains("rm_src") && source.contains("user mapping|rm_srv:{user=rm_src}|rm_src"), "\(source)")

        for format in ["plain", "custom"] {
            let cli = try await BackupCLI.asSuperuser(label: "rm-\(format)", database: Self.database, extra: "postgres.format = \(format)")
            defer { cli.cleanUp() }
            #expect(try await cli.run("now").status == 0)
            let target = "rm_\(format)"
            let restored = try await cli.run("restore", "--to-database", target, "--map-role", "rm_src=rm_dst")
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(restored.stdout.contains("give the source's role rm_src and what it owns and was granted to the existing role rm_dst")
                    && restored.stdout.contains("not make rm_reader a member of rm_src's target rm_dst"), "the plan says so: \(restored.stdout)")
            let facts = try await server.psql(Self.facts, database: target)
            #expect(facts.split(separator: "\n").sorted().joined(separator: "\n") == Self.mapped(source), "\(format)")
            #expect(!facts.split(separator: "\n").contains { $0.split(separator: "|", maxSplits: 2).last?.contains("rm_src") == true },
                    "\(format): rm_src holds nothing: \(facts)")
            #expect(try await server.psql("SELECT string_agg(note, '/' ORDER BY id) FROM rm_s.rm_src", database: target)
                    == "ALTER TABLE t OWNER TO rm_src;/GRANT ALL ON t TO rm_src;\n\\.", "the data is as it was")
            #expect(try await server.psql("SELECT obj_description('rm_s.rm_src'::regclass)", database: target) == "owned by rm_src")

            let verified = try await cli.run("verify", "--map-role", "rm_src=rm_dst")
            #expect(verified.status == 0 && verified.stdout.contains("tables match"), "\(format): \(verified.stdout)\(verified.stderr)")

            // The wrapper, owned by the superuser postgres, cannot go to rm_dst: the load fails early, with
            // megabytes of the dump still to come (pg_restore is stopped, nothing hangs) and is undone.
            let refused = try await cli.run("restore", "--to-database", "rm_\(format)_refused", "--map-role", "postgres=rm_dst")
            #expect(refused.status == 1 && refused.stderr.contains("the source's postgres was a superuser; rm_dst, which --map-role gives its objects to, is not one here"),
                    "\(format): \(refused.stderr)")
            #expect(try await server.psql("SELECT count(*) FROM pg_database WHERE datname = 'rm_\(format)_refused'") == "0")

            // A role that was not a superuser mapped onto one: its functions would run as a superuser.
            let widened = try await cli.run("restore", "--to-database", "rm_\(format)_widened", "--map-role", "rm_src=postgres")
            #expect(widened.status == 1 && widened.stderr.contains("postgres is a superuser on 127.0.0.1")
                    && widened.stderr.contains("pass --allow-privileged-roles"), "\(widened.stderr)")

            // Damaged in the middle (zstd): the verify through pg_restore -f - and psql fails, and returns.
            let damaged = try await BackupCLI.asSuperuser(label: "rm-z-\(format)", database: Self.database,
                                                         extra: "postgres.format = \(format)\ncompressor = zstd")
            defer { damaged.cleanUp() }
            #expect(try await damaged.run("now").status == 0)
            let file = try #require(try damaged.files().first { !$0.hasSuffix(".json") })
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: damaged.path(file))))
            for offset in stride(from: bytes.count / 3, to: bytes.count / 2, by: 97) { bytes[offset] ^= 0x5A }
            try Data(bytes).write(to: URL(fileURLWithPath: damaged.path(file)))
            let failed = try await damaged.run("verify", "--map-role", "rm_src=rm_dst")
            #expect(failed.status == 1 && failed.stdout.contains("CHECKSUM MISMATCH"), "\(format): \(failed.stdout)\(failed.stderr)")
        }
    }

    /// A mapping the backup or the target cannot honour stops before anything is created; a malformed
    /// one is a usage error.
    @Test func aMappingThatCannotHoldStopsFirst() async throws {
        let server = try await PostgresServer.shared
        try await server.psql("CREATE ROLE rm_lone")
        try await server.psql("CREATE DATABASE rm_bad OWNER rm_lone")
        let cli = try await BackupCLI.asSuperuser(label: "rm-bad", database: "rm_bad")
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let before = try await server.psql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'rm_bad%'")

        let unknown = try await cli.run("restore", "--to-database", "rm_bad2", "--map-role", "rm_nobody=postgres")
        #expect(unknown.status == 1 && unknown.stderr.contains("--map-role rm_nobody=postgres: the backup has no role rm_nobody; its roles are rm_lone"),
                "\(unknown.stderr)")
        let missing = try await cli.run("restore", "--to-database", "rm_bad2", "--map-role", "rm_lone=rm_absent")
        #expect(missing.status == 1 && missing.stderr.contains("role rm_absent does not exist on 127.0.0.1"), "\(missing.stderr)")
        let unverified = try await cli.run("verify", "--map-role", "rm_lone=rm_absent")
        #expect(unverified.status == 1 && unverified.stdout.contains("RESTORE FAILED") && unverified.stderr.contains("rm_absent does not exist"),
                "\(unverified.stdout)\(unverified.stderr)")
        #expect(try await server.psql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'rm_bad%'") == before)

        for (option, message) in [("rm_lone", "write SOURCE=TARGET"), ("=x", "write SOURCE=TARGET"), ("rm_lone=rm_lone", "to itself"),
                                  ("rm_lone=pg_monitor", "pg_ roles")] {
            let usage = try await cli.run("restore", "--to-database", "rm_bad2", "--map-role", option)
            #expect(usage.status == 64 && usage.stderr.contains(message), "\(option): \(usage.stderr)")
        }
        let twice = try await cli.run("restore", "--to-database", "rm_bad2", "--map-role", "rm_lone=a", "--map-role", "rm_lone=b")
        #expect(twice.status == 64 && twice.stderr.contains("names rm_lone twice"), "\(twice.stderr)")
    }
}
