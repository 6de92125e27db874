import Engine
import Foundation
import Logging

/// `restore --server`'s part that is the server's own: the roles (as a database's restore creates them,
/// least privilege unless allowed, `--map-role` applied), their passwords when the backup has them, their
/// memberships, and a word on each tablespace, which the target must provide itself.
extension PostgresServerSource: RestorableServerSource {
    public func runDatabases(_ globals: [UInt8]) throws -> [String] {
        try Self.read(globals).databases
    }

    public func existingDatabases() async throws -> Set<String> {
        Set(try base.adminConnection().rows("SELECT datname FROM pg_database").compactMap { $0.first ?? nil })
    }

    /// The roles document, or an error saying why it is not read; nothing of a file that fails is used.
    static func read(_ bytes: [UInt8]) throws -> ServerGlobals {
        do {
            return try ServerGlobals.decode(bytes)
        } catch {
            if bytes.starts(with: Array("--".utf8)) {
                throw BackupError(.corrupt, "this run's roles were recorded by an earlier release as pg_dumpall SQL,"
                    + " which restore --server never runs; restore its databases one at a time with --job")
            }
            throw BackupError(.corrupt, "the run's roles document cannot be read (\(error)); it is damaged or was"
                + " not written by this tool, and nothing of it is used")
        }
    }

    /// The server's roles as a database's restore creates them, with the role map checked against them.
    private func roleRestore(_ document: ServerGlobals, options: RestoreOptions,
                             logger: Logger) throws -> GlobalsRestore {
        var options = options
        options.roleMapAcrossDatabases = false
        return try GlobalsRestore(document.roleGlobals, options: options, admin: try maintenanceConnection(),
                                  server: base.serverName, logger: logger)
    }

    /// A connection to `template1` for the server's own part, which stays open while the databases are
    /// restored: never in a database the run restores in place (`postgres` among them), which must be free
    /// of sessions to be renamed.
    private func maintenanceConnection() throws -> PostgresConnection {
        var target = base.target
        target.database = "template1"
        return try PostgresConnection(target)
    }

    public func describeServer(_ globals: [UInt8], options: RestoreOptions) async throws -> [String] {
        let document = try Self.read(globals)
        let restore = try roleRestore(document, options: options, logger: Logger(label: "describe"))
        var steps = ["the run holds \(document.roles.count) roles, \(document.memberships.count) memberships,"
            + " \(document.tablespaces.count) tablespaces and \(document.databases.count) databases"]
        steps += try restore.describeRoles()
        let missing = Set(try restore.missingRoles().map(\.name))
        let present = document.roles.map(\.name).filter { !missing.contains($0) && options.roleMap[$0] == nil }
        if !present.isEmpty {
            steps.append("leave the \(present.count) roles the target has as they are (attributes, passwords,"
                + " memberships): \(present.listed)")
        }
        if !document.roles.contains(where: { $0.password != nil }) {
            let login = document.roles.filter { $0.login && missing.contains($0.name) }.map(\.name)
            if !login.isEmpty {
                steps.append("the backup has no passwords (postgres.role_passwords = exclude): set one for each"
                    + " created role that logs in: \(login.listed)")
            }
        }
        for membership in predefined(document, missing: missing, options: options) {
            steps.append(options.privilegedRoles
                ? "grant the predefined role \(membership.role) to \(membership.member), as on the source"
                : "NOT grant the predefined role \(membership.role) to \(membership.member) as on the source:"
                    + " pass --allow-privileged-roles to grant it")
        }
        let admin = restore.admin
        for space in document.tablespaces {
            if try admin.scalar("SELECT 1 FROM pg_tablespace WHERE spcname = $1", space.name) != nil {
                steps.append("tablespace \(space.name) exists on the target; its databases' objects go there")
            } else {
                steps.append("tablespace \(space.name) (owner \(space.owner), at \(space.location) on the source)"
                    + " is not on the target: create it there (CREATE TABLESPACE … LOCATION) first, or the"
                    + " databases with objects in it fail")
            }
        }
        return steps
    }

    public func restoreServer(
        _ globals: [UInt8], options: RestoreOptions, logger: Logger, databases: () async throws -> Void
    ) async throws -> [String] {
        let document = try Self.read(globals)
        let restore = try roleRestore(document, options: options, logger: logger)
        let serverMajor = restore.admin.serverMajor
        do {
            try restore.preflight(serverMajor: serverMajor)
            let missing = Set(try restore.missingRoles().map(\.name))
            try restore.createRoles(serverMajor: serverMajor)
            for membership in predefined(document, missing: missing, options: options) {
                guard options.privilegedRoles else {
                    let refusal = "not granting the predefined role \(membership.role) to \(membership.member):"
                        + " pass --allow-privileged-roles to grant it as on the source"
                    logger.warning("\(refusal)")
                    continue
                }
                guard try restore.admin.scalar("SELECT 1 FROM pg_roles WHERE rolname = $1", membership.role) != nil
                else {
                    logger.warning("the target has no predefined role \(membership.role) to grant \(membership.member)")
                    continue
                }
                try restore.grant(membership, serverMajor: serverMajor)
            }
        } catch {
            let undone = restore.undo()
            let message = (error as? BackupError)?.message ?? "\(error)"
            throw BackupError((error as? BackupError)?.code ?? .sourceFailed,
                              "cannot restore the server's roles: \(message)" + (undone.isEmpty ? "" : "; \(undone)"))
        }
        // The restoring role keeps the memberships it borrowed (to act as every role) while the databases
        // load, so one database's restore cannot take away what another's still needs.
        do {
            try await databases()
        } catch {
            restore.finish()
            throw error
        }
        restore.finish()
        return restore.createdRoles
    }

    /// Memberships in PostgreSQL's predefined roles of the roles the restore creates.
    private func predefined(_ document: ServerGlobals, missing: Set<String>,
                            options: RestoreOptions) -> [DatabaseGlobals.Membership] {
        document.memberships.filter {
            $0.role.hasPrefix("pg_") && missing.contains($0.member) && options.roleMap[$0.member] == nil
        }
    }
}
