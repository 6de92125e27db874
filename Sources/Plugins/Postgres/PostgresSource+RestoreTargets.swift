import Engine
import Logging

/// The restore's checks and changes at the level of whole databases: that the target is free, dropping,
/// and the in-place swap of names.
extension PostgresSource {
    private func exists(_ database: String, _ admin: PostgresConnection) throws -> Bool {
        try admin.scalar("SELECT 1 FROM pg_database WHERE datname = $1", database) != nil
    }

    private func otherSessions(_ database: String, _ admin: PostgresConnection) throws -> Int {
        Int(try admin.scalar(
            "SELECT count(*) FROM pg_stat_activity"
                + " WHERE datname = $1 AND pid <> pg_backend_pid() AND \(Self.clientSessions)",
            database) ?? "0") ?? 0
    }

    /// Fails before anything is created when the target is taken or, in place, still in use; returns what it
    /// found. `changing`: drop a target `--force` replaces (false for a check that changes nothing).
    @discardableResult
    func checkTargets(_ request: RestoreRequest, plan: Plan, admin: PostgresConnection, changing: Bool = true) throws
        -> String
    {
        switch request.mode {
        case .newDatabase(let name, let replace):
            guard try exists(name, admin) else { return "database \(name) does not exist yet" }
            guard replace else {
                throw BackupError(.targetBusy, "database \(name) already exists;"
                    + " choose another --to-database or pass --force to replace it")
            }
            if changing { try dropDatabase(name, admin: admin) }
            return "database \(name) exists; --force replaces it"
        case .inPlace(let terminate, _):
            guard try exists(target.database, admin) else {
                throw BackupError(.notFound, "database \(target.database) does not exist;"
                    + " restore with --to-database \(target.database) instead")
            }
            let sessions = try otherSessions(target.database, admin)
            if sessions > 0 && !terminate {
                throw BackupError(.targetBusy, "\(sessions) other session(s) are connected to \(target.database);"
                    + " stop the applications using it or pass --force to disconnect them")
            }
            if try exists(plan.work, admin) {
                throw BackupError(.targetBusy, "database \(plan.work) already exists; try again in a second")
            }
            return "database \(target.database) exists; " + (sessions == 0 ? "no other session is connected"
                : "\(sessions) other session(s) connected, which --force disconnects")
        case .scratch:
            if try exists(plan.work, admin) {
                throw BackupError(.targetBusy, "scratch database \(plan.work) already exists; try again in a second")
            }
            return "scratch database \(plan.work) is free"
        }
    }

    /// Sessions of people and applications, not the server's own: an autovacuum worker that happens to
    /// be in a freshly restored database is a superuser process that a role without SUPERUSER may not
    /// terminate ("must be a superuser to terminate superuser process", seen when verify dropped its
    /// scratch database on a loaded machine), and DROP DATABASE and RENAME stop autovacuum workers
    /// themselves.
    /// A role without pg_read_all_stats sees another role's session with `backend_type` NULL, but its user
    /// (an autovacuum worker has none), so such sessions count too: an in-place restore as the backup role
    /// missed a superuser's session and failed at the rename.
    static let clientSessions = "(backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL))"

    /// Disconnects the client sessions (see `clientSessions`) of the database `$1`, other than this one.
    static let terminateSessions = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        + " WHERE datname = $1 AND pid <> pg_backend_pid() AND \(clientSessions)"

    func dropDatabase(_ name: String, admin: PostgresConnection) throws {
        try admin.execute(Self.terminateSessions, name)
        try admin.executeFormatted("DROP DATABASE IF EXISTS %I", name)
    }

    func swap(_ plan: Plan, terminate: Bool, admin: PostgresConnection, logger: Logger, swapped: inout Bool) throws {
        let original = target.database
        let sessions = try otherSessions(original, admin)
        if sessions > 0 {
            guard terminate else {
                throw BackupError(.targetBusy, "\(sessions) session(s) connected to \(original) during the restore;"
                    + " it was left untouched; pass --force to disconnect them")
            }
            try admin.execute(Self.terminateSessions, original)
        }
        let aside = plan.previous ?? "\(original)_dropping_\(plan.work.suffix(16))"
        try admin.executeFormatted("ALTER DATABASE %I RENAME TO %I", original, aside)
        do {
            try admin.executeFormatted("ALTER DATABASE %I RENAME TO %I", plan.work, original)
        } catch {
            try? admin.executeFormatted("ALTER DATABASE %I RENAME TO %I", aside, original)
            throw error
        }
        swapped = true
        if plan.previous == nil {
            try dropDatabase(aside, admin: admin)
        } else {
            logger.notice("the previous database is kept as \(aside)")
        }
    }
}
