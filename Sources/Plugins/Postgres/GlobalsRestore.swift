import Engine
import Foundation
import Logging

/// Puts back on the target server what a backup's globals recorded, around the load of the dump itself:
/// the database with its locale, the roles it needs (with their memberships and settings), and, once the
/// data is in, the database's settings, comment, limits and exact ACL. Keeps track of what it created so
/// `undo` leaves the server as it was.
///
/// Nothing is created until `preflight` found that the target can have every property; the database is
/// created before any role, so a locale or tablespace the target lacks stops the restore with nothing
/// to undo.
final class GlobalsRestore {
    /// The globals as the target is to have them: with `--map-role`'s source roles replaced.
    let globals: DatabaseGlobals?
    /// The globals as the backup recorded them.
    let recorded: DatabaseGlobals?
    let options: RestoreOptions
    let admin: PostgresConnection
    /// `host:port`, for messages.
    let server: String
    let logger: Logger
    /// The role the restore runs as, and whether it is a superuser (which needs no borrowed memberships).
    let restorer: String
    let restorerIsSuperuser: Bool
    /// Roles this restore created, in the order it created them.
    var createdRoles: [String] = []
    /// Roles the restorer was made a member of, for as long as the restore needs to act as them.
    var borrowed: [String] = []

    init(_ globals: DatabaseGlobals?, options: RestoreOptions, admin: PostgresConnection, server: String,
         logger: Logger) throws {
        self.globals = globals?.mapping(options.roleMap)
        recorded = globals
        self.options = options
        self.admin = admin
        self.server = server
        self.logger = logger
        restorer = try admin.scalar("SELECT current_user") ?? ""
        restorerIsSuperuser = try admin.scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == "t"
    }

    /// The recorded roles the target lacks.
    func missingRoles() throws -> [DatabaseGlobals.Role] {
        try (globals?.roles ?? []).filter { try !exists(role: $0.name) }
    }

    /// Whether `role` is a superuser on the target; nil when the target has no such role.
    func isSuperuser(_ role: String) throws -> Bool? {
        try admin.scalar("SELECT rolsuper FROM pg_roles WHERE rolname = $1", role).map { $0 == "t" }
    }

    private func exists(role: String) throws -> Bool {
        try admin.scalar("SELECT 1 FROM pg_roles WHERE rolname = $1", role) != nil
    }

    /// One line per role to be created, naming the privileged attributes it gets or is denied, and one
    /// per role mapped onto another.
    func describeRoles() throws -> [String] {
        let mapped = options.roleMap.sorted { $0.key < $1.key }.map { source, target in
            "give the source's role \(source) and what it owns and was granted to the existing role \(target)"
                + " (--map-role), without creating \(source)"
        }
        let unshared = (recorded?.memberships ?? []).compactMap { membership in
            options.roleMap[membership.role].map {
                "not make \(membership.member) a member of \(membership.role)'s target \($0)"
                    + " (it was a member of \(membership.role));"
                    + " grant \($0) to it by hand if it should have all \($0) holds"
            }
        }
        return try mapped + unshared + missingRoles().map { role in
            let given = Self.attributes(role, privileged: options.privilegedRoles)
                .filter { !$0.hasPrefix("NO") && $0 != "INHERIT" }
            var line = "create role \(role.name) "
                + (role.password == nil ? "without a password" : "with its password from the backup")
                + (given.isEmpty ? "" : " (\(given.joined(separator: ", ")))")
            let denied = role.privilegedAttributes
            if !denied.isEmpty && !options.privilegedRoles {
                line += "; NOT \(denied.joined(separator: ", ")) as on the source:"
                    + " pass --allow-privileged-roles to give it,"
                    + " or --map-role \(role.name)=ROLE to use an existing role instead"
            }
            return line
        }
    }

    /// `CREATE ROLE` attributes; the privileged ones only when allowed.
    static func attributes(_ role: DatabaseGlobals.Role, privileged: Bool) -> [String] {
        func word(_ on: Bool, _ name: String) -> String { on ? name : "NO" + name }
        var words = [
            word(role.superuser && privileged, "SUPERUSER"), word(role.inherit, "INHERIT"),
            word(role.createrole, "CREATEROLE"), word(role.createdb, "CREATEDB"), word(role.login, "LOGIN"),
            word(role.replication && privileged, "REPLICATION"), word(role.bypassrls && privileged, "BYPASSRLS"),
        ]
        if role.connectionLimit != -1 { words.append("CONNECTION LIMIT \(role.connectionLimit)") }
        return words
    }

    // MARK: Before anything is created

    /// Fails, naming the property and what to pass instead, when the target cannot have the database as
    /// the source had it.
    func preflight(serverMajor: Int) throws {
        try checkRoleMap()
        guard let g = globals else { return }
        for space in g.objectTablespaces ?? []
        where try admin.scalar("SELECT 1 FROM pg_tablespace WHERE spcname = $1", space) == nil {
            throw BackupError(.config, "tablespace \(space), which objects in the backup live in,"
                + " does not exist on \(server); create it there (CREATE TABLESPACE) and restore again")
        }
        if options.tablespace == nil, let space = g.tablespace, space != "pg_default",
           try admin.scalar("SELECT 1 FROM pg_tablespace WHERE spcname = $1", space) == nil {
            throw BackupError(.config, "the source database's tablespace \(space) does not exist on \(server);"
                + " create it there or pass --tablespace pg_default")
        }
        guard options.locale == nil else { return }
        switch g.localeProvider {
        case "icu":
            let icuCollation = serverMajor >= 15
                ? try admin.scalar("SELECT 1 FROM pg_collation WHERE collprovider = 'i' LIMIT 1") : nil
            let hasICU = icuCollation != nil
            if !hasICU {
                let why = serverMajor >= 15 ? "built without ICU" : "ICU databases need 15"
                throw BackupError(.config, "the database uses the ICU locale \(g.icuLocale ?? "?")"
                    + " (locale provider icu), which \(server) cannot provide (PostgreSQL \(serverMajor), \(why));"
                    + " pass --locale NAME to create it with a libc locale instead")
            }
            if g.icuRules != nil && serverMajor < 16 {
                throw BackupError(.config, "the database has ICU collation rules, which PostgreSQL \(serverMajor)"
                    + " on \(server) cannot keep (16 or newer can);"
                    + " pass --locale NAME to create it with a libc locale instead")
            }
        case "builtin" where serverMajor < 17:
            throw BackupError(.config, "the database uses the builtin locale provider (\(g.builtinLocale ?? "?")),"
                + " which PostgreSQL \(serverMajor) on \(server) lacks (17 or newer has it);"
                + " pass --locale NAME to create it with a libc locale instead")
        default:
            break
        }
    }

    /// Each `--map-role` names a role the backup has and a role that exists here.
    private func checkRoleMap() throws {
        for (source, target) in options.roleMap.sorted(by: { $0.key < $1.key }) {
            if let recorded, !recorded.mentionedRoles.contains(source) {
                // A whole server's map: the server's restore checked it; this database does not use the role.
                if options.roleMapAcrossDatabases { continue }
                throw BackupError(.config, "--map-role \(source)=\(target): the backup has no role \(source);"
                    + " its roles are \(recorded.mentionedRoles.sorted().listed)")
            }
            guard try exists(role: target) else {
                throw BackupError(.config, "--map-role \(source)=\(target): role \(target) does not exist on \(server);"
                    + " create it first or map \(source) to a role that exists")
            }
            // Objects of a role that was not a superuser (SECURITY DEFINER functions, views) must not come
            // to run with a superuser's rights unless asked for.
            let wasSuperuser = recorded?.roles.first { $0.name == source }?.superuser ?? false
            if !wasSuperuser, !options.privilegedRoles,
               try isSuperuser(target) == true {
                throw BackupError(.config, "--map-role \(source)=\(target): \(target) is a superuser on \(server)"
                    + " and \(source) was not one on the source, so its functions and views would run as a superuser;"
                    + " map it to a role that is not one, or pass --allow-privileged-roles")
            }
        }
    }

    /// Creates the (empty) database with the source's encoding, locale and tablespace, owned for now by
    /// the restoring role; `adopt` hands it to its owner once the roles exist.
    func createDatabase(_ name: String, serverMajor: Int) throws {
        guard let g = globals else {
            return try wrapCreate(name) {
                try admin.executeFormatted("CREATE DATABASE %I TEMPLATE template0", name)
            }
        }
        var clauses = "ENCODING %L"
        var arguments = [name, g.encoding]
        if let locale = options.locale {
            clauses += " LC_COLLATE %L LC_CTYPE %L" + (serverMajor >= 15 ? " LOCALE_PROVIDER libc" : "")
            arguments += [locale, locale]
        } else {
            clauses += " LC_COLLATE %L LC_CTYPE %L"
            arguments += [g.collate, g.ctype]
            switch g.localeProvider {
            case "icu":
                clauses += " LOCALE_PROVIDER icu ICU_LOCALE %L"
                arguments.append(g.icuLocale ?? "")
                if let rules = g.icuRules { clauses += " ICU_RULES %L"; arguments.append(rules) }
            case "builtin":
                clauses += " LOCALE_PROVIDER builtin BUILTIN_LOCALE %L"
                arguments.append(g.builtinLocale ?? "C")
            default:
                if serverMajor >= 15 && g.localeProvider != nil { clauses += " LOCALE_PROVIDER libc" }
            }
        }
        // Naming pg_default takes a privilege on it that the default itself does not.
        if let space = options.tablespace ?? g.tablespace, space != "pg_default" {
            clauses += " TABLESPACE %I"
            arguments.append(space)
        }
        try wrapCreate(name) {
            try admin.executeFormatted("CREATE DATABASE %I TEMPLATE template0 " + clauses, arguments)
        }
    }

    private func wrapCreate(_ name: String, _ create: () throws -> Void) throws {
        do {
            try create()
        } catch {
            let text = "\(error)".lowercased()
            let hint: String
            if text.contains("locale") || text.contains("collat") || text.contains("icu")
                || text.contains("encoding") {
                let g = globals
                let locale = g?.localeProvider == "icu"
                    ? "ICU locale \(g?.icuLocale ?? "?")" : "locale \(g?.collate ?? "?")"
                hint = "the target cannot have the source's \(locale) with encoding \(g?.encoding ?? "?");"
                    + " pass --locale NAME with a locale \(server) has"
            } else if text.contains("tablespace") {
                hint = "pass --tablespace NAME with a tablespace \(server) has"
            } else {
                hint = "the restoring role needs CREATEDB"
            }
            throw BackupError(.destination, "cannot create database \(name) on \(server): \(error); \(hint)")
        }
    }
}
