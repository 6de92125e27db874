import Engine
import Foundation

/// What a plain dump of one database leaves out but a restore onto another server needs: the roles the
/// database uses and the database's own owner, encoding, locale, settings and grants. Stored beside the
/// backup as `<backup>.globals.json`.
struct DatabaseGlobals: Codable, Equatable {
    struct Role: Codable, Equatable {
        var name: String
        /// `CREATE ROLE` / `ALTER ROLE` lines from `pg_dumpall --roles-only --no-role-passwords`.
        var sql: [String]
    }

    struct Grant: Codable, Equatable {
        var grantee: String
        var privilege: String
        var grantable: Bool
    }

    var database: String
    var owner: String
    var encoding: String
    var collate: String
    var ctype: String
    /// `name=value` pairs set with `ALTER DATABASE … SET`.
    var settings: [String]
    var grants: [Grant]
    var roles: [Role]

    static let suffix = ".globals.json"

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self))
    }

    static func decode(_ bytes: [UInt8]) throws -> DatabaseGlobals {
        try JSONDecoder().decode(DatabaseGlobals.self, from: Data(bytes))
    }

    /// Reads the database's facts through `connection` (inside the dump's snapshot) and keeps the lines of
    /// `rolesDump` (pg_dumpall's output) that concern the roles the database uses.
    static func read(_ connection: PostgresConnection, rolesDump: String) throws -> DatabaseGlobals {
        guard let row = try connection.rows("""
            SELECT current_database(), pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype
            FROM pg_database WHERE datname = current_database()
            """).first else { throw BackupError(.sourceFailed, "cannot read the database's own settings") }
        let settings = try connection.rows("""
            SELECT unnest(s.setconfig) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
            WHERE d.datname = current_database() AND s.setrole = 0
            """).compactMap { $0[0] }
        let grants = try connection.rows("""
            SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type,
                   a.is_grantable
            FROM pg_database d, aclexplode(d.datacl) a
            WHERE d.datname = current_database() AND a.grantee <> d.datdba
            """).map { Grant(grantee: $0[0] ?? "PUBLIC", privilege: $0[1] ?? "", grantable: $0[2] == "t") }
        let used = try connection.rows(usedRolesQuery).compactMap { row in row[0].map { ($0, row[1] ?? $0) } }
        let lines = rolesDump.split(separator: "\n").map(String.init)
        let roles = used.map { name, quoted in
            Role(name: name, sql: lines.filter { line in
                (line.hasPrefix("CREATE ROLE ") || line.hasPrefix("ALTER ROLE ") || line.hasPrefix("COMMENT ON ROLE "))
                    && (line.contains("ROLE \(quoted);") || line.contains("ROLE \(quoted) "))
            })
        }
        return DatabaseGlobals(
            database: row[0] ?? "", owner: row[1] ?? "", encoding: row[2] ?? "UTF8", collate: row[3] ?? "C",
            ctype: row[4] ?? "C", settings: settings, grants: grants, roles: roles)
    }

    /// Every role that owns something in the database or holds a privilege on it.
    private static let usedRolesQuery = """
        SELECT r.rolname, quote_ident(r.rolname) FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\\_%' AND r.oid IN (
            SELECT datdba FROM pg_database WHERE datname = current_database()
            UNION SELECT relowner FROM pg_class UNION SELECT nspowner FROM pg_namespace
            UNION SELECT proowner FROM pg_proc UNION SELECT typowner FROM pg_type
            UNION SELECT (aclexplode(relacl)).grantee FROM pg_class WHERE relacl IS NOT NULL
            UNION SELECT (aclexplode(nspacl)).grantee FROM pg_namespace WHERE nspacl IS NOT NULL
            UNION SELECT (aclexplode(proacl)).grantee FROM pg_proc WHERE proacl IS NOT NULL
            UNION SELECT (aclexplode(datacl)).grantee FROM pg_database
                WHERE datname = current_database() AND datacl IS NOT NULL)
        ORDER BY 1
        """

    /// Tables whose rows a dump carries, with their `schema.table` key and quoted name.
    static let tablesQuery = """
        SELECT n.nspname || '.' || c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1
        """

    /// Exact rows per table, in whatever snapshot `connection` is in.
    static func rowCounts(_ connection: PostgresConnection) throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for table in try connection.rows(tablesQuery) {
            guard let key = table[0], let quoted = table[1] else { continue }
            counts[key] = Int64(try connection.scalar("SELECT count(*) FROM ONLY \(quoted)") ?? "0") ?? 0
        }
        return counts
    }
}
