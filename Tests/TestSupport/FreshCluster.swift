import Foundation
import Testing

/// A second, brand-new PostgreSQL cluster for one test, started by `scripts/pg-sandbox` like the shared one,
/// with a superuser of the test's choosing (managed services have no `postgres` role). Stopped by `stop()`.
package struct FreshCluster {
    package let directory: String
    package let port: Int
    package let superuser: String
    package let password: String
    /// The directory of `major`'s client wrappers (`scripts/pg-versions clients`) when the cluster is of a
    /// major given to `start`; nil for the test run's own major, whose clients are on `PATH`.
    package var clients: String?

    /// `major`: another PostgreSQL major than the test run's (one `scripts/pg-versions` prepared).
    package static func start(superuser: String = "admin", major: Int? = nil) async throws -> FreshCluster {
        let directory = try Paths.temporaryDirectory("fresh-cluster")
        var variables = ["PG_SANDBOX_SUPERUSER=\(superuser)"]
        var clients: String?
        if let major {
            variables.append("PG_SANDBOX_MAJOR=\(major)")
            let made = try await Shell.run("\(Paths.root)/scripts/pg-versions", ["clients", String(major)])
            guard made.status == 0 else { throw TestFailure("pg-versions clients \(major) failed: \(made.stderr)") }
            clients = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let started = try await Shell.run("/usr/bin/env", variables + ["\(Paths.root)/scripts/pg-sandbox", "start", directory])
        guard started.status == 0, let port = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("pg-sandbox start failed: \(started.stderr)")
        }
        let password = try String(contentsOfFile: "\(directory)/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return FreshCluster(directory: directory, port: port, superuser: superuser, password: password, clients: clients)
    }

    /// This cluster's client `name` (`psql`, `pg_dump`, …).
    package func tool(_ name: String) -> String { clients.map { "\($0)/\(name)" } ?? Paths.pgTool(name) }

    package func stop() { _ = system("'\(Paths.root)/scripts/pg-sandbox' stop '\(directory)'; rm -rf '\(directory)'") }

    package var environment: [String: String] {
        ["PGHOST": "127.0.0.1", "PGPORT": String(port), "PGUSER": superuser, "PGPASSWORD": password, "PGDATABASE": "postgres"]
    }

    @discardableResult
    package func psql(_ sql: String, database: String = "postgres") async throws -> String {
        try await Self.psql(sql, database: database, environment: environment, psql: tool("psql"))
    }

    package static func psql(_ sql: String, database: String, environment: [String: String], psql: String = Paths.pgTool("psql")) async throws -> String {
        let result = try await Shell.run(psql, ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
                                         environment: environment)
        guard result.status == 0 else { throw TestFailure("psql failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A config whose job restores onto this cluster as `user` (password in a file of its own).
    package func restoreConfig(in directory: String, backups: String, user: String? = nil, password: String? = nil) throws -> String {
        let passwordFile = "\(directory)/fresh-\(port)-password"
        FileManager.default.createFile(atPath: passwordFile, contents: Data((password ?? self.password).utf8),
                                       attributes: [.posixPermissions: 0o600])
        let path = "\(directory)/fresh-\(port).conf"
        try """
            postgres.host = 127.0.0.1
            postgres.port = \(port)
            postgres.user = \(user ?? superuser)
            postgres.password_file = \(passwordFile)
            local.path = \(backups)
            postgres.database = postgres
            \(clients.map { "postgres.pg_dump = \($0)/pg_dump" } ?? "")

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

extension FreshCluster {
    /// `backup restore` of `file` from `cli`'s destination into `database` on this cluster, as `user`.
    package func restore(
        _ cli: BackupCLI, file: String, into database: String, as user: String? = nil, password: String? = nil,
        _ extra: [String] = []
    ) async throws -> Shell.Result {
        let config = try restoreConfig(in: cli.directory, backups: cli.backups, user: user, password: password)
        return try await Shell.run(Paths.backup, ["restore", "--config", config, "--backup", cli.path(file), "--to-database", database] + extra)
    }

    /// Every role and database name, to show that a failed restore left nothing behind.
    package func rolesAndDatabases() async throws -> String {
        try await psql("""
            SELECT (SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles) || ' '
                || (SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database)
            """)
    }
}

/// What `pg_dump` of one database leaves out, read from the catalogs by name, for comparing a restored
/// database with its source: `pg_database` (owner, encoding, locale, provider, limits, flags, comment, the
/// ACL entry by entry), `pg_db_role_setting`, and the roles whose names start with `prefix` (`pg_roles`
/// attributes, comments, settings, and `pg_auth_members` on either side).
package enum DatabaseFacts {
    /// `restorer`: a role that restored the database as a CREATEROLE role, whose memberships in the roles it
    /// created are PostgreSQL's own doing from 16 on (an ADMIN grant to the creator), not the source's.
    package static func read(_ database: String, rolePrefix prefix: String, environment: [String: String], restorer: String? = nil) async throws -> [String] {
        let sql = """
            SELECT 'database|' || concat_ws('|', pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype,
                d.datlocprovider, coalesce(to_jsonb(d) ->> 'daticulocale', to_jsonb(d) ->> 'datlocale'), d.datconnlimit, d.datallowconn, d.datistemplate,
                shobj_description(d.oid, 'pg_database'), coalesce(d.datacl::text, 'default'))
            FROM pg_database d WHERE datname = '\(database)'
            UNION ALL SELECT 'acl|' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || '|' || a.privilege_type
                || '|' || a.is_grantable || '|' || pg_get_userbyid(a.grantor)
            FROM pg_database d, aclexplode(d.datacl) a WHERE datname = '\(database)'
            UNION ALL SELECT 'setting|' || coalesce(pg_get_userbyid(nullif(s.setrole, 0)), '-') || '|' || s.setconfig::text
            FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = '\(database)'
            UNION ALL SELECT 'role|' || concat_ws('|', rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
                rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil, rolconfig::text, shobj_description(oid, 'pg_authid'))
            FROM pg_roles WHERE rolname LIKE '\(prefix)%'
            UNION ALL SELECT 'member|' || concat_ws('|', pg_get_userbyid(roleid), pg_get_userbyid(member), admin_option,
                to_jsonb(m) ->> 'inherit_option', to_jsonb(m) ->> 'set_option')
            FROM pg_auth_members m WHERE (pg_get_userbyid(roleid) LIKE '\(prefix)%' OR pg_get_userbyid(member) LIKE '\(prefix)%')
                AND pg_get_userbyid(member) <> '\(restorer ?? "")'
            ORDER BY 1
            """
        return try await FreshCluster.psql(sql, database: "postgres", environment: environment)
            .split(separator: "\n").map(String.init)
    }
}
