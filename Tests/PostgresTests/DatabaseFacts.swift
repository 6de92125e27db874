import TestSupport

/// What `pg_dump` of one database leaves out, read from the catalogs by name, for comparing a restored
/// database with its source: `pg_database` (owner, encoding, locale, provider, limits, flags, comment, the
/// ACL entry by entry), `pg_db_role_setting`, and the roles whose names start with `prefix` (`pg_roles`
/// attributes, comments, settings, and `pg_auth_members` on either side).
enum DatabaseFacts {
    /// `restorer`: a role that restored the database as a CREATEROLE role, whose memberships in the roles it
    /// created are PostgreSQL's own doing from 16 on (an ADMIN grant to the creator), not the source's.
    static func read(_ database: String, rolePrefix prefix: String, environment: [String: String], restorer: String? = nil) async throws -> [String] {
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
