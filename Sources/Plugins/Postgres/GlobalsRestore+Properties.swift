import Engine
import Foundation
import Logging

// MARK: After the load

extension GlobalsRestore {
    /// The database's settings, per-role settings, comment, connection limit and ACL. Applied after the
    /// dump is loaded, so a setting such as `default_transaction_read_only` cannot get in the load's way.
    func applyProperties(to database: String) throws {
        guard let g = globals else { return }
        for item in g.settings {
            guard let setting = StoredSetting(item) else { continue }
            try admin.executeFormatted("ALTER DATABASE %I " + setting.setClause.template,
                                       [database] + setting.setClause.arguments)
        }
        for entry in g.roleSettings ?? [] {
            for item in entry.settings {
                guard let setting = StoredSetting(item) else { continue }
                try admin.executeFormatted("ALTER ROLE %I IN DATABASE %I " + setting.setClause.template,
                                           [entry.role, database] + setting.setClause.arguments)
            }
        }
        if let comment = g.comment { try admin.executeFormatted("COMMENT ON DATABASE %I IS %L", database, comment) }
        if let limit = g.connectionLimit, limit != -1 {
            try admin.executeFormatted("ALTER DATABASE %I CONNECTION LIMIT \(limit)", database)
        }
        if g.version >= 2 {
            if let acl = g.acl { try setACL(acl, on: database, owner: g.owner) }
        } else {
            // The privilege is one of three words (checked when the file was read), never text from the file.
            for grant in g.grants ?? [] {
                guard let privilege = DatabaseGlobals.databasePrivileges.first(where: { $0 == grant.privilege }) else {
                    continue
                }
                try admin.executeFormatted("GRANT \(privilege) ON DATABASE %I TO "
                                           + (grant.grantee == "PUBLIC" ? "PUBLIC" : "%I")
                                           + (grant.grantable ? " WITH GRANT OPTION" : ""),
                                           grant.grantee == "PUBLIC" ? [database] : [database, grant.grantee])
            }
        }
    }

    /// Makes the database's ACL exactly the recorded one: everything the default gives is revoked (from
    /// PUBLIC and the owner), then each entry is granted again, in the recorded order, by its grantor.
    private func setACL(_ acl: [DatabaseGlobals.AclEntry], on database: String, owner: String) throws {
        try admin.executeFormatted("REVOKE ALL ON DATABASE %I FROM PUBLIC", database)
        try admin.executeFormatted("REVOKE ALL ON DATABASE %I FROM %I", database, owner)
        var groups: [(grantee: String, grantor: String, grantable: Bool, privileges: [String])] = []
        for entry in acl {
            let grantor = entry.grantor ?? owner
            if let i = groups.firstIndex(where: {
                $0.grantee == entry.grantee && $0.grantor == grantor && $0.grantable == entry.grantable
            }) {
                groups[i].privileges.append(entry.privilege)
            } else {
                groups.append((entry.grantee, grantor, entry.grantable, [entry.privilege]))
            }
        }
        for group in groups {
            let privileges = group.privileges.filter { DatabaseGlobals.databasePrivileges.contains($0) }
                .joined(separator: ", ")
            guard !privileges.isEmpty else { continue }
            let to = group.grantee == "PUBLIC" ? "PUBLIC" : "%I"
            let template = "GRANT \(privileges) ON DATABASE %I TO \(to)" + (group.grantable ? " WITH GRANT OPTION" : "")
            let arguments = group.grantee == "PUBLIC" ? [database] : [database, group.grantee]
            if group.grantor == owner {
                // A superuser, or a member of the owner, grants as the owner.
                try admin.executeFormatted(template, arguments)
            } else {
                try actAs(group.grantor)
                try admin.executeFormatted("SET ROLE %I", group.grantor)
                defer { try? admin.execute("RESET ROLE") }
                try admin.executeFormatted(template, arguments)
            }
        }
    }

    /// `ALLOW_CONNECTIONS false` and `IS_TEMPLATE true`, set last: the first would lock the restore out,
    /// the second would stop a failed restore from dropping the database.
    func applyFlags(to database: String) throws {
        guard let g = globals else { return }
        if g.allowConnections == false {
            try admin.executeFormatted("ALTER DATABASE %I ALLOW_CONNECTIONS false", database)
        }
        if g.isTemplate == true { try admin.executeFormatted("ALTER DATABASE %I IS_TEMPLATE true", database) }
    }

    /// Gives back the memberships the restorer borrowed. Never throws: the restore itself is done.
    func finish() {
        for role in borrowed.reversed() {
            do {
                try admin.executeFormatted("REVOKE %I FROM %I", role, restorer)
            } catch {
                let failure = "could not revoke the membership in \(role) that the restore gave \(restorer): \(error)"
                logger.warning("\(failure); revoke it by hand")
            }
        }
        borrowed.removeAll()
    }

    /// Drops the roles this restore created (after the caller dropped its database) and gives back borrowed
    /// memberships. Returns what it did, for the error message, naming anything it could not undo.
    func undo() -> String {
        finish()
        var dropped: [String] = []
        var kept: [String] = []
        for role in createdRoles.reversed() {
            do {
                try admin.executeFormatted("DROP ROLE IF EXISTS %I", role)
                dropped.append(role)
            } catch {
                kept.append("\(role) (\(error))")
            }
        }
        createdRoles.removeAll()
        var text = dropped.isEmpty ? "" : "dropped the roles it created (\(dropped.reversed().joined(separator: ", ")))"
        if !kept.isEmpty {
            text += (text.isEmpty ? "" : "; ")
                + "could not drop the roles \(kept.joined(separator: ", ")): drop them by hand"
        }
        return text
    }
}
