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
        let password = passwords ? ", 'password', (SELECT rolpassword FROM pg_authid a WHERE a.oid = r.oid)" : ""
        guard let json = try connection.scalar(query(password: password)) else {
            throw BackupError(.sourceFailed, "cannot read the server's roles and tablespaces")
        }
        var globals = try decode(Array(json.utf8))
        globals.databases = databases
        return globals
    }

    /// Memberships are read through `to_jsonb(row)` so that the options PostgreSQL 16 added are simply
    /// absent before it; a membership granted twice (by two grantors, from 16) is recorded once.
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
                SELECT DISTINCT ON (roleid, member) jsonb_build_object(
                    'role', pg_get_userbyid(roleid), 'member', pg_get_userbyid(member),
                    'grantor', pg_get_userbyid(grantor), 'admin_option', admin_option,
                    'inherit_option', to_jsonb(a)->'inherit_option', 'set_option', to_jsonb(a)->'set_option') AS m
                FROM pg_auth_members a WHERE pg_get_userbyid(member) !~ '^pg_'
                ORDER BY roleid, member, admin_option DESC) memberships),
            'tablespaces', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'name', spcname, 'owner', pg_get_userbyid(spcowner), 'location', pg_tablespace_location(oid),
                    'options', coalesce(to_jsonb(spcoptions), '[]'), 'comment', shobj_description(oid, 'pg_tablespace')
                ) ORDER BY spcname), '[]') FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global'))
        )::text
        """
    }
}
