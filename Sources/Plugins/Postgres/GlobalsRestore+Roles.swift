import Engine
import Foundation
import Logging

extension GlobalsRestore {
    /// Creates the missing roles (with a password only from a server's roles document), then the recorded
    /// memberships that involve them, and makes the restoring role able to act as every recorded role while
    /// the dump loads.
    func createRoles(serverMajor: Int) throws {
        for role in try missingRoles() {
            do {
                try create(role)
            } catch {
                throw BackupError(.authentication, "cannot create role \(role.name) that the backup needs (\(error));"
                    + " create it by hand or restore as a role with CREATEROLE")
            }
        }
        for membership in globals?.memberships ?? []
        where createdRoles.contains(membership.role) || createdRoles.contains(membership.member) {
            try grant(membership, serverMajor: serverMajor)
        }
        // The dump's owners and grantors are among these, but which ones the file does not say. A role the
        // restorer cannot borrow (no CREATEROLE, say) is skipped: if the load needed it, the load says so.
        let targets = Set(options.roleMap.values).sorted()
        for role in (globals?.roles ?? []).map(\.name) + targets {
            do { try actAs(role) } catch { logger.debug("not acting as \(role): \(error)") }
        }
    }

    /// Creates `role` from its recorded attributes (a version 1 file's lines were read into them, never run).
    private func create(_ role: DatabaseGlobals.Role) throws {
        let attributes = Self.attributes(role, privileged: options.privilegedRoles).joined(separator: " ")
        var template = "CREATE ROLE %I WITH \(attributes)"
        var arguments = [role.name]
        if let until = role.validUntil { template += " VALID UNTIL %L"; arguments.append(until) }
        try admin.executeFormatted(template, arguments)
        createdRoles.append(role.name)
        if let password = role.password { try setPassword(role.name, password) }
        if let comment = role.comment { try admin.executeFormatted("COMMENT ON ROLE %I IS %L", role.name, comment) }
        for item in role.settings {
            guard let setting = StoredSetting(item) else { continue }
            try admin.executeFormatted("ALTER ROLE %I " + setting.setClause.template,
                                       [role.name] + setting.setClause.arguments)
        }
        let denied = role.privilegedAttributes
        let notGiven = denied.isEmpty || options.privilegedRoles ? "" : "; not \(denied.joined(separator: ", "))"
        let password = role.password == nil ? "without a password" : "with its password from the backup"
        logger.notice("created role \(role.name) (\(password)\(notGiven))")
    }

    /// Sets a password hash (only a server's roles document has them, each checked to be a hash when read)
    /// as a literal, not a parameter, and, where the restorer may, with statement logging off for it, so the
    /// hash does not reach the server's log.
    private func setPassword(_ role: String, _ hash: String) throws {
        guard ServerGlobals.isPasswordHash(hash), let name = try admin.scalar("SELECT quote_ident($1)", role) else {
            throw BackupError(.corrupt, "role \(role)'s recorded password is not a hash")
        }
        let statement = "ALTER ROLE \(name) PASSWORD '\(hash)'"
        guard restorerIsSuperuser else { return try admin.execute(statement) }
        try admin.execute("BEGIN")
        do {
            try admin.execute("SET LOCAL log_statement = 'none'")
            try admin.execute("SET LOCAL log_min_error_statement = 'panic'")
            try admin.execute(statement)
            try admin.execute("COMMIT")
        } catch {
            try? admin.execute("ROLLBACK")
            throw error
        }
    }

    func grant(_ membership: DatabaseGlobals.Membership, serverMajor: Int) throws {
        // Membership in a role that is, or can become, a superuser or a predefined role here gives the
        // member that too: only when allowed. A role this restore created has only what it granted.
        if !options.privilegedRoles, !createdRoles.contains(membership.role),
           let power = try privilege(of: membership.role) {
            let refusal = "not granting \(membership.role) to \(membership.member): \(membership.role) \(power)"
                + " on \(server); pass --allow-privileged-roles to grant it"
            logger.warning("\(refusal)")
            return
        }
        // Before 16 a membership always lets the member SET ROLE (and inherit, if the member inherits):
        // one that could not is not widened into one that can.
        if serverMajor < 16, membership.inheritOption == false || membership.setOption == false {
            let refusal = "not granting \(membership.role) to \(membership.member): on the source it had"
                + " INHERIT \(membership.inheritOption ?? true), SET \(membership.setOption ?? true),"
                + " which PostgreSQL \(serverMajor) cannot express"
            logger.warning("\(refusal)")
            return
        }
        var template = "GRANT %I TO %I"
        if serverMajor >= 16 {
            let options = ["ADMIN \(membership.adminOption)", membership.inheritOption.map { "INHERIT \($0)" },
                           membership.setOption.map { "SET \($0)" }].compactMap { $0 }
            template += " WITH " + options.joined(separator: ", ")
        } else if membership.adminOption {
            template += " WITH ADMIN OPTION"
        }
        try admin.executeFormatted(template, membership.role, membership.member)
    }

    /// What makes `role` more than a plain role here: it is a superuser, or a member (directly or not) of a
    /// superuser or of a predefined role; nil when it is none of these.
    func privilege(of role: String) throws -> String? {
        if try isSuperuser(role) == true { return "is a superuser" }
        let reached = try admin.scalar("""
            SELECT string_agg(s.rolname, ', ' ORDER BY s.rolname) FROM pg_roles s
            WHERE (s.rolsuper OR (s.rolname ~ '^pg_' AND s.rolname <> 'pg_database_owner'))
              AND s.rolname <> $1 AND pg_has_role($1, s.oid, 'MEMBER')
            """, role)
        return reached.map { "is a member of \($0)" }
    }

    /// Lets a restoring role that is not a superuser act as `role` (own objects as it, grant as it) by
    /// making it a member until `finish`. A role that is a superuser here is left alone: borrowing it would
    /// make the restorer one.
    ///
    /// From PostgreSQL 16 a membership may lack SET and INHERIT: a CREATEROLE role that creates a role is
    /// given an ADMIN-only membership in it, which counts as MEMBER but cannot `SET ROLE` nor own as it.
    /// So there the test is SET, and the borrowed grant (made by the restorer, so `finish` revokes exactly
    /// it) has INHERIT and SET; the automatic ADMIN grant, made by the bootstrap superuser, stays as it was.
    func actAs(_ role: String) throws {
        // A predefined role (pg_*) is never borrowed: it would give the restorer what no source object needs.
        guard !restorerIsSuperuser, role != restorer, !borrowed.contains(role), !role.hasPrefix("pg_") else { return }
        let modern = admin.serverMajor >= 16
        guard try admin.scalar("SELECT pg_has_role(current_user, $1, '\(modern ? "SET" : "MEMBER")')", role) == "f",
              try isSuperuser(role) == false else { return }
        do {
            try admin.executeFormatted("GRANT %I TO %I" + (modern ? " WITH INHERIT TRUE, SET TRUE" : ""),
                                       role, restorer)
        } catch {
            throw BackupError(.authentication, "cannot act as role \(role), which owns or grants what the backup holds"
                + " (\(error)); restore as a superuser or as a role with CREATEROLE")
        }
        borrowed.append(role)
    }

    /// For a failure that needed a superuser (an object only a superuser may own, such as a foreign-data
    /// wrapper, owned on the source by a superuser that is not one here): what to pass, in the error line
    /// itself, since the plan that said so has scrolled away. Empty otherwise.
    func privilegeHint(for message: String) throws -> String {
        let text = message.lowercased()
        guard text.contains("must be a superuser") || text.contains("must be superuser")
                || text.contains("permission denied to change owner") else { return "" }
        var denied: [String] = []
        for role in globals?.roles ?? [] where role.superuser {
            if try isSuperuser(role.name) != true {
                denied.append(role.name)
            }
        }
        for (source, target) in options.roleMap.sorted(by: { $0.key < $1.key })
        where recorded?.roles.contains(where: { $0.name == source && $0.superuser }) == true {
            if try isSuperuser(target) != true {
                return " (the source's \(source) was a superuser; \(target), which --map-role gives its objects to,"
                    + " is not one here: map \(source) to a superuser)"
            }
        }
        guard let first = denied.first else { return "" }
        let created = denied.filter { createdRoles.contains($0) }
        let one = denied.count == 1
        let were = one ? "was a superuser and is" : "were superusers and are"
        var hint = " (the source's \(denied.joined(separator: ", ")) \(were) not one here"
        if !created.isEmpty && !options.privilegedRoles {
            hint += ": pass --allow-privileged-roles to create \(created.count == 1 ? "it" : "them")"
                + " as on the source, or"
        } else {
            hint += ": pass"
        }
        return hint + " --map-role \(first)=ROLE to give \(one ? "its" : "their") objects to an existing role)"
    }

    /// Gives the database to its recorded owner.
    func adopt(_ database: String) throws {
        guard let owner = globals?.owner, owner != restorer else { return }
        try actAs(owner)
        try admin.executeFormatted("ALTER DATABASE %I OWNER TO %I", database, owner)
    }
}
