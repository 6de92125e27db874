import Engine
import Foundation
import Dispatch
import Synchronization

extension DatabaseGlobals {
    /// Reads the database's properties and every role it references through `connection`, inside the
    /// dump's snapshot, so they describe the same moment as the dump. One query: the server builds the JSON.
    static func read(_ connection: PostgresConnection) throws -> DatabaseGlobals {
        guard let json = try connection.scalar(globalsQuery) else {
            throw BackupError(.sourceFailed, "cannot read the database's own properties and roles")
        }
        var globals = try decode(Array(json.utf8))
        globals.formatVersion = currentVersion
        return globals
    }

    /// Columns that differ between server versions (`datlocprovider` from 15, `daticurules` from 16,
    /// `datlocale` from 17, the membership options from 16) are read through `to_jsonb(row)`, so one query
    /// works on every version and a missing column is simply absent.
    ///
    /// The roles are those a dump of the database names: owners of its objects, grantees and grantors of
    /// every ACL (database, schema, table, column, sequence, function, type, language, large object,
    /// foreign data wrapper and server, default privileges), policy roles, user mappings, per-role
    /// settings in this database; and, through memberships, the roles that act through those. Objects the
    /// system or an extension created are owned by whoever created the cluster or the extension, which a
    /// dump never names, so only what was granted on them to others counts.
    static let globalsQuery = #"""
        WITH RECURSIVE db AS (
            SELECT d.*, to_jsonb(d) AS j FROM pg_database d WHERE d.datname = current_database()
        ), system(objid) AS (
            SELECT objid FROM pg_depend WHERE deptype = 'e'
        ), acls(acl, user_object) AS (
            SELECT datacl, true FROM db WHERE datacl IS NOT NULL
            UNION ALL SELECT relacl, oid >= 16384 FROM pg_class WHERE relacl IS NOT NULL
            UNION ALL SELECT attacl, attrelid >= 16384 FROM pg_attribute WHERE attacl IS NOT NULL
            UNION ALL SELECT nspacl, oid >= 16384 FROM pg_namespace WHERE nspacl IS NOT NULL
            UNION ALL SELECT proacl, oid >= 16384 FROM pg_proc WHERE proacl IS NOT NULL
            UNION ALL SELECT typacl, oid >= 16384 FROM pg_type WHERE typacl IS NOT NULL
            UNION ALL SELECT lanacl, oid >= 16384 FROM pg_language WHERE lanacl IS NOT NULL
            UNION ALL SELECT lomacl, true FROM pg_largeobject_metadata WHERE lomacl IS NOT NULL
            UNION ALL SELECT fdwacl, true FROM pg_foreign_data_wrapper WHERE fdwacl IS NOT NULL
            UNION ALL SELECT srvacl, true FROM pg_foreign_server WHERE srvacl IS NOT NULL
            UNION ALL SELECT defaclacl, true FROM pg_default_acl
        ), entries(grantee, grantor, user_object) AS (
            SELECT a.grantee, a.grantor, acls.user_object FROM acls, aclexplode(acls.acl) a
        ), owners(oid, owner) AS (
            SELECT oid, relowner FROM pg_class UNION ALL SELECT oid, nspowner FROM pg_namespace
            UNION ALL SELECT oid, proowner FROM pg_proc UNION ALL SELECT oid, typowner FROM pg_type
            UNION ALL SELECT oid, lanowner FROM pg_language UNION ALL SELECT oid, collowner FROM pg_collation
            UNION ALL SELECT oid, conowner FROM pg_conversion UNION ALL SELECT oid, oprowner FROM pg_operator
            UNION ALL SELECT oid, opcowner FROM pg_opclass UNION ALL SELECT oid, opfowner FROM pg_opfamily
            UNION ALL SELECT oid, stxowner FROM pg_statistic_ext UNION ALL SELECT oid, dictowner FROM pg_ts_dict
            UNION ALL SELECT oid, cfgowner FROM pg_ts_config UNION ALL SELECT oid, lomowner FROM pg_largeobject_metadata
            UNION ALL SELECT oid, fdwowner FROM pg_foreign_data_wrapper
            UNION ALL SELECT oid, srvowner FROM pg_foreign_server
            UNION ALL SELECT oid, evtowner FROM pg_event_trigger UNION ALL SELECT oid, pubowner FROM pg_publication
            UNION ALL SELECT oid, subowner FROM pg_subscription WHERE subdbid = (SELECT oid FROM db)
        ), direct(oid) AS (
            SELECT datdba FROM db
            UNION SELECT owner FROM owners WHERE oid >= 16384 AND oid NOT IN (SELECT objid FROM system)
            UNION SELECT grantee FROM entries WHERE user_object OR grantee <> grantor
            UNION SELECT grantor FROM entries WHERE user_object
            UNION SELECT defaclrole FROM pg_default_acl
            UNION SELECT unnest(polroles) FROM pg_policy
            UNION SELECT umuser FROM pg_user_mappings
            UNION SELECT setrole FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM db)
        ), needed(oid) AS (
            SELECT r.oid FROM pg_roles r JOIN direct ON direct.oid = r.oid WHERE r.rolname !~ '^pg_'
            UNION SELECT m.member FROM pg_auth_members m JOIN needed n ON m.roleid = n.oid
                JOIN pg_roles r ON r.oid = m.member WHERE r.rolname !~ '^pg_'
        )
        SELECT jsonb_build_object(
            'database', datname, 'owner', pg_get_userbyid(datdba), 'encoding', pg_encoding_to_char(encoding),
            'collate', datcollate, 'ctype', datctype,
            'locale_provider', CASE j->>'datlocprovider' WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END,
            'icu_locale', CASE WHEN j->>'datlocprovider' = 'i' THEN coalesce(j->>'daticulocale', j->>'datlocale') END,
            'builtin_locale', CASE WHEN j->>'datlocprovider' = 'b' THEN j->>'datlocale' END,
            'icu_rules', j->>'daticurules',
            'tablespace', (SELECT spcname FROM pg_tablespace WHERE oid = db.dattablespace),
            'object_tablespaces', (SELECT coalesce(jsonb_agg(DISTINCT t.spcname), '[]') FROM pg_class c
                JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE t.spcname <> 'pg_global'),
            'connection_limit', datconnlimit, 'allow_connections', datallowconn, 'is_template', datistemplate,
            'comment', shobj_description(db.oid, 'pg_database'),
            'settings', coalesce((SELECT to_jsonb(setconfig) FROM pg_db_role_setting
                WHERE setdatabase = db.oid AND setrole = 0), '[]'),
            'acl', CASE WHEN datacl IS NOT NULL THEN (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                    'grantor', pg_get_userbyid(a.grantor), 'privilege', a.privilege_type,
                    'grantable', a.is_grantable) ORDER BY a.n), '[]')
                FROM aclexplode(datacl) WITH ORDINALITY AS a(grantor, grantee, privilege_type, is_grantable, n)) END,
            'role_settings', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'role', pg_get_userbyid(setrole), 'settings', to_jsonb(setconfig)) ORDER BY 1), '[]')
                FROM pg_db_role_setting WHERE setdatabase = db.oid AND setrole <> 0),
            'roles', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'name', rolname, 'superuser', rolsuper, 'inherit', rolinherit, 'createrole', rolcreaterole,
                    'createdb', rolcreatedb, 'login', rolcanlogin, 'replication', rolreplication,
                    'bypassrls', rolbypassrls, 'connection_limit', rolconnlimit, 'valid_until', rolvaliduntil,
                    'comment', shobj_description(oid, 'pg_authid'), 'settings', coalesce(to_jsonb(rolconfig), '[]')
                ) ORDER BY rolname), '[]') FROM pg_roles WHERE oid IN (SELECT oid FROM needed)),
            'memberships', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'role', pg_get_userbyid(roleid), 'member', pg_get_userbyid(member),
                    'grantor', pg_get_userbyid(grantor), 'admin_option', admin_option,
                    'inherit_option', to_jsonb(m)->'inherit_option', 'set_option', to_jsonb(m)->'set_option'
                ) ORDER BY pg_get_userbyid(roleid), pg_get_userbyid(member)), '[]') FROM pg_auth_members m
                WHERE roleid IN (SELECT oid FROM needed) AND member IN (SELECT oid FROM needed))
        )::text FROM db
        """#

    /// Tables whose rows a dump carries, with their `schema.table` key and quoted name.
    static let tablesQuery = tables + " ORDER BY 1"
    /// The same, the largest first.
    static let tablesBySizeQuery = tables + " ORDER BY pg_relation_size(c.oid) DESC"

    private static let tables = """
        SELECT n.nspname || '.' || c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
        """

    /// Exact rows per table, in whatever snapshot `connection` is in.
    static func rowCounts(_ connection: PostgresConnection) throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for table in try connection.rows(tablesQuery) {
            guard let key = table[0], let quoted = table[1] else { continue }
            counts[key] = try count(quoted, connection)
        }
        return counts
    }

    /// Exact rows per table of a database nothing else writes (a restore's, once loaded), the largest tables
    /// first, counted by this connection and by up to `sessions - 1` more, each on a thread of Dispatch's
    /// (libpq blocks). The others are a help, not a need: one that cannot connect (the server's or the
    /// role's connection limit) leaves the tables to the rest; a count that fails fails them all.
    static func rowCounts(in target: PostgresTarget, sessions: Int) async throws -> [String: Int64] {
        let connection = try PostgresConnection(target)
        let tables = try connection.rows(tablesBySizeQuery).compactMap { row -> (String, String)? in
            guard let key = row[0], let quoted = row[1] else { return nil }
            return (key, quoted)
        }
        let work = CountWork(tables)
        let helpers = min(sessions, tables.count) - 1
        for _ in 0..<max(0, helpers) {
            work.started()
            DispatchQueue.global().async {
                defer { work.ended() }
                guard let own = try? PostgresConnection(target) else { return }
                work.count(own)
            }
        }
        work.count(connection)
        return try await work.result()
    }

    private static func count(_ quoted: String, _ connection: PostgresConnection) throws -> Int64 {
        Int64(try connection.scalar("SELECT count(*) FROM ONLY \(quoted)") ?? "0") ?? 0
    }

    /// The tables left to count, what was counted, the first failure, and the helpers still counting.
    private final class CountWork: Sendable {
        private let tables: [(key: String, quoted: String)]
        private let state = Mutex(State())

        private struct State {
            var next = 0
            var counts: [String: Int64] = [:]
            var failure: (any Error)?
            var running = 0
            var waiting: CheckedContinuation<[String: Int64], any Error>?
        }

        init(_ tables: [(String, String)]) { self.tables = tables.map { (key: $0.0, quoted: $0.1) } }

        func started() { state.withLock { $0.running += 1 } }

        /// Counts tables through `connection` until none is left or one failed.
        func count(_ connection: PostgresConnection) {
            while let table = state.withLock({ state -> (key: String, quoted: String)? in
                guard state.failure == nil, state.next < tables.count else { return nil }
                state.next += 1
                return tables[state.next - 1]
            }) {
                do {
                    let rows = try DatabaseGlobals.count(table.quoted, connection)
                    state.withLock { $0.counts[table.key] = rows }
                } catch {
                    state.withLock { $0.failure = $0.failure ?? error }
                }
            }
        }

        func ended() {
            let waiting = state.withLock { state in
                state.running -= 1
                return state.running == 0 ? state.waiting.take() : nil
            }
            waiting?.resume(with: outcome)
        }

        private var outcome: Result<[String: Int64], any Error> {
            state.withLock { state in state.failure.map { .failure($0) } ?? .success(state.counts) }
        }

        /// The counts once every helper has ended, or the first failure.
        func result() async throws -> [String: Int64] {
            try await withCheckedThrowingContinuation { continuation in
                let done = state.withLock { state in
                    if state.running == 0 { return true }
                    state.waiting = continuation
                    return false
                }
                if done { continuation.resume(with: outcome) }
            }
        }
    }
}
