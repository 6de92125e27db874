import Engine
import Foundation

extension ServerGlobals {
    /// Reads every role, membership and tablespace through `connection` in one query (the server builds the
    /// JSON), with `databases` as the run found them. With `passwords`, each role's hash from `pg_authid`,
    /// which only a superuser may read.
    static func read(_ connection: PostgresConnection, databases: [String], passwords: Bool) throws -> ServerGlobals {
        if passwords, try connection.scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") != "t" {
            throw BackupError(.authentication, "postgres.role_passwords = include needs a superuser to read the"
                + " password hashes (pg_authid); back up as one, or set postgres.role_passwords = exclude")
        }
        // A cluster upgraded from long ago may still hold a password in plain text, which is not recorded.
        if passwords, let plain = try connection.scalar(plainPasswords) {
            throw BackupError(.sourceFailed, "the password of role(s) \(plain) is stored in plain text, not as a"
                + " hash; set it again (ALTER ROLE … PASSWORD) so the server hashes it,"
                + " or set postgres.role_passwords = exclude")
        }
        let password = passwords ? ", 'password', (SELECT rolpassword FROM pg_authid a WHERE a.oid = r.oid)" : ""
        guard let json = try connection.scalar(query(password: password)) else {
            throw BackupError(.sourceFailed, "cannot read the server's roles and tablespaces")
        }
        var globals = try decode(Array(json.utf8))
        globals.databases = databases
        return globals
    }

    /// Roles whose stored password is not a hash (nil when there are none).
    static let plainPasswords = #"""
        SELECT string_agg(rolname, ', ' ORDER BY rolname) FROM pg_authid
        WHERE rolpassword IS NOT NULL AND rolpassword !~ '^(SCRAM-SHA-256\$|md5[0-9a-f]{32}$)'
        """#

    /// Memberships are read through `to_jsonb(row)` so that the options PostgreSQL 16 added are simply
    /// absent (null) before it; a membership granted more than once (by several grantors, from 16) is
    /// recorded once, with each option as any of its grants has it.
    static func query(password: String) -> String {
        """
        SELECT jsonb_build_object(
            'format_version', \(currentVersion), 'server_version', current_setting('server_version'),
            'databases', '[]'::jsonb,
            'roles', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'name', rolname, 'superuser', rolsuper, 'inherit', rolinherit, 'createrole', rolcreaterole,
                    'createdb', rolcreatedb, 'login', rolcanlogin, 'replication', rolreplication,
                    'bypassrls', rolbypassrls, 'connection_limit', rolconnlimit, 'valid_until', rolvaliduntil,
                    'comment', shobj_description(oid, 'pg_authid'), 'settings', coalesce(to_jsonb(rolconfig), '[]')
                    \(password)) ORDER BY rolname), '[]') FROM pg_roles r WHERE rolname !~ '^pg_'),
            'memberships', (SELECT coalesce(jsonb_agg(m ORDER BY m->>'role', m->>'member'), '[]') FROM (
                SELECT jsonb_build_object(
                    'role', pg_get_userbyid(roleid), 'member', pg_get_userbyid(member),
                    'grantor', min(pg_get_userbyid(grantor)), 'admin_option', bool_or(admin_option),
                    'inherit_option', bool_or((to_jsonb(a)->>'inherit_option')::boolean),
                    'set_option', bool_or((to_jsonb(a)->>'set_option')::boolean)) AS m
                FROM pg_auth_members a WHERE pg_get_userbyid(member) !~ '^pg_'
                GROUP BY roleid, member) memberships),
            'tablespaces', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'name', spcname, 'owner', pg_get_userbyid(spcowner), 'location', pg_tablespace_location(oid),
                    'options', coalesce(to_jsonb(spcoptions), '[]'), 'comment', shobj_description(oid, 'pg_tablespace')
                ) ORDER BY spcname), '[]') FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global'))
        )::text
        """
    }
}
