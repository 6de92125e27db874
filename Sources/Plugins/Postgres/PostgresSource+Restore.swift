import Engine
import PluginSupport
import Foundation
import Logging
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Restores into a database this restore creates (never into an existing one), so that a failure can
/// always be undone by dropping what it created. In place means: restore beside, then swap names.
extension PostgresSource: RestorableSource {
    /// The databases a restore touches, named once so that `describe` and `restore` agree.
    struct Plan {
        var work: String
        var final: String
        var previous: String?
        var globals: DatabaseGlobals?
    }

    func plan(_ request: RestoreRequest, at time: Date) throws -> Plan {
        let stamp = Timestamp.compact(time).lowercased()
        let globals = try request.sidecars.first { $0.key.hasSuffix(DatabaseGlobals.suffix) }.map { name, bytes in
            do {
                return try DatabaseGlobals.decode(bytes)
            } catch {
                throw BackupError(.corrupt, "\(name) cannot be read (\(error)); it is damaged or was not written by this tool, and nothing of it is run")
            }
        }
        let plan: Plan
        switch request.mode {
        case .newDatabase(let name, _):
            plan = Plan(work: name, final: name, previous: nil, globals: globals)
        case .inPlace(_, let dropPrevious):
            plan = Plan(work: Self.derived(target.database, "_restoring_\(stamp)"), final: target.database,
                        previous: dropPrevious ? nil : Self.derived(target.database, "_before_restore_\(stamp)"), globals: globals)
        case .scratch:
            plan = Plan(work: Self.derived(request.manifest.database, "_verify_\(stamp)"), final: "", previous: nil, globals: globals)
        }
        for name in [plan.work, plan.previous ?? ""] where name.utf8.count > 63 {
            throw BackupError(.config, "database name \(name) is longer than PostgreSQL's 63 bytes; use a shorter --to-database")
        }
        return plan
    }

    /// `database` + `suffix`, the name shortened (at a character) so the whole fits PostgreSQL's 63 bytes.
    static func derived(_ database: String, _ suffix: String) -> String {
        var base = Substring(database)
        while base.utf8.count + suffix.utf8.count > 63 { base = base.dropLast() }
        return base + suffix
    }

    public func describe(_ request: RestoreRequest) async throws -> [String] {
        let plan = try plan(request, at: Date())
        let tool = !request.options.roleMap.isEmpty ? (request.manifest.format == "custom" ? "pg_restore -f - | psql" : "psql") + ", the --map-role names rewritten on the way"
            : request.manifest.format != "custom" ? "psql"
            : request.localDumpFile == nil ? "pg_restore"
            : "pg_restore --jobs \(max(2, CPUCount.available)) reading \(request.localDumpFile!) directly"
        var steps = ["check \(request.manifest.file) against the SHA-256 in its manifest"]
        var server = self
        if request.mode.isScratch, !verifyServer.isEmpty { server = onServer(verifyServer) }
        if let roles = plan.globals?.roles, !roles.isEmpty {
            // Which roles are missing is the target's to say; unreachable now, the restore will say so.
            if let admin = try? server.adminConnection(),
               let lines = try? GlobalsRestore(plan.globals, options: request.options, admin: admin,
                                               server: server.serverName, logger: Logger(label: "describe")).describeRoles() {
                steps += lines
            } else {
                steps.append("create whichever of these roles are missing (without passwords): \(roles.map(\.name).joined(separator: ", "))")
            }
        }
        switch request.mode {
        case .newDatabase(let name, let replace):
            if replace { steps.append("drop database \(name) if it exists (--force)") }
            steps.append("create database \(name) on \(target.host):\(target.port) and restore into it with \(tool)")
        case .inPlace(let terminate, let dropPrevious):
            steps.append("create database \(plan.work) and restore into it with \(tool); \(target.database) is not touched")
            if terminate { steps.append("then disconnect every other session from \(target.database) (--force)") }
            steps.append("then rename \(target.database) to \(plan.previous ?? "(dropped: --drop-previous)") and \(plan.work) to \(target.database)")
            if dropPrevious { steps.append("then drop the previous \(target.database)") }
        case .scratch:
            steps.append("create scratch database \(plan.work), restore into it with \(tool), count rows, drop it and any role it created")
        }
        if plan.globals != nil && !request.mode.isScratch {
            steps.append("then set the database's owner, settings, comment, limits and privileges as the source had them")
        }
        steps.append("if anything fails, drop the database and the roles this restore created")
        return steps
    }

    public func restore(_ request: RestoreRequest, logger: Logger, feed: DumpFeed) async throws -> RestoreReport {
        if request.mode.isScratch, !verifyServer.isEmpty {
            return try await onServer(verifyServer).restoreHere(request, logger: logger, feed: feed)
        }
        return try await restoreHere(request, logger: logger, feed: feed)
    }

    /// This source with `host`, `port`, `user` and `password` replaced where `server` gives them.
    func onServer(_ server: [String: String]) -> PostgresSource {
        var other = target
        if let host = server["host"] { other.host = host }
        if let port = server["port"].flatMap(Int.init) { other.port = port }
        if let user = server["user"] { other.user = user; other.password = nil }
        if let password = server["password"] { other.password = password }
        return PostgresSource(target: other, format: format, pgDumpOverride: pgDumpOverride, countRows: countRows)
    }

    private func restoreHere(_ request: RestoreRequest, logger: Logger, feed: DumpFeed) async throws -> RestoreReport {
        let plan = try plan(request, at: Date())
        let admin = try adminConnection()
        let globals = try GlobalsRestore(plan.globals, options: request.options, admin: admin, server: serverName, logger: logger)
        // Before checkTargets, which may drop a database that --force replaces.
        try globals.preflight(serverMajor: admin.serverMajor)
        try checkTargets(request, plan: plan, admin: admin)
        try globals.createDatabase(plan.work, serverMajor: admin.serverMajor)
        let counts: [String: Int64]
        var swapped = false
        var createdRoles: [String] = []
        do {
            try globals.createRoles(serverMajor: admin.serverMajor)
            createdRoles = globals.createdRoles
            try globals.adopt(plan.work)
            counts = try await loadAndCount(request, into: plan.work, serverMajor: admin.serverMajor, logger: logger, feed: feed)
            try globals.applyProperties(to: plan.work)
            if request.mode.isScratch {
                try dropDatabase(plan.work, admin: admin)
                let undone = globals.undo()
                if !undone.isEmpty { logger.info("verify \(undone)") }
            } else {
                try globals.applyFlags(to: plan.work)
            }
            if case .inPlace(let terminate, _) = request.mode {
                try swap(plan, terminate: terminate, admin: admin, logger: logger, swapped: &swapped)
            }
            globals.finish()
        } catch {
            guard !swapped else { globals.finish(); throw error }
            let message = (error as? BackupError)?.message ?? "\(error)"
            // Before undo, which forgets the roles this restore created.
            let hint = (try? globals.privilegeHint(for: message)) ?? ""
            // Whatever failed (a syntax error in the stream, the server going away, a signal), the
            // database this restore created goes, then the roles it created; nothing that existed before
            // was touched.
            try? dropDatabase(plan.work, admin: try adminConnection())
            let undone = globals.undo()
            let what = "the restore was undone: dropped database \(plan.work)" + (undone.isEmpty ? "" : "; \(undone)")
            logger.notice("\(what)")
            if error is CancellationError { throw error }
            let code = (error as? BackupError)?.code ?? .sourceFailed
            throw BackupError(code, message + hint + "; \(what)", cause: (error as? BackupError)?.cause)
        }
        return RestoreReport(database: request.mode.isScratch ? plan.work : plan.final, rowCounts: counts,
                             previousDatabase: plan.previous, createdRoles: request.mode.isScratch ? [] : createdRoles)
    }

    /// Loads the dump into `database` and returns its rows per table.
    private func loadAndCount(
        _ request: RestoreRequest, into database: String, serverMajor: Int, logger: Logger, feed: DumpFeed
    ) async throws -> [String: Int64] {
        var loaded: [String: Int64]?
        let script = request.manifest.format != "custom" || !request.options.roleMap.isEmpty
        if script {
            let result = try await loadScript(request, into: database, serverMajor: serverMajor, feed: feed)
            for (source, count) in result.renamed.sorted(by: { $0.key < $1.key }) {
                let target = request.options.roleMap[source] ?? "?"
                logger.notice("gave role \(source)'s \(count) ownerships and grants in the dump to \(target) (--map-role)")
            }
            loaded = result.rows
            if loaded == nil {
                logger.info("counting the restored rows with count(*): psql's COPY tags did not pair with the dump's tables")
            }
        } else if let file = request.localDumpFile {
            try await parallelRestore(file, into: database, serverMajor: serverMajor)
        } else {
            try await loadArchive(into: database, serverMajor: serverMajor, feed: feed)
        }
        return try loaded ?? DatabaseGlobals.rowCounts(try PostgresConnection(retargeted(database)))
    }

    /// `host:port`, for messages.
    var serverName: String { "\(target.host):\(target.port)" }

    private func retargeted(_ database: String) -> PostgresTarget {
        var copy = target
        copy.database = database
        return copy
    }

    /// A connection to the server's maintenance database, for CREATE/DROP/ALTER DATABASE.
    func adminConnection() throws -> PostgresConnection {
        do {
            return try PostgresConnection(retargeted("postgres"))
        } catch let error as BackupError where error.code == .databaseMissing {
            return try PostgresConnection(retargeted("template1"))
        }
    }

    private func exists(_ database: String, _ admin: PostgresConnection) throws -> Bool {
        try admin.scalar("SELECT 1 FROM pg_database WHERE datname = $1", database) != nil
    }

    private func otherSessions(_ database: String, _ admin: PostgresConnection) throws -> Int {
        Int(try admin.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND \(Self.clientSessions)",
            database) ?? "0") ?? 0
    }

    /// Fails before anything is created when the target is taken or, in place, still in use.
    private func checkTargets(_ request: RestoreRequest, plan: Plan, admin: PostgresConnection) throws {
        switch request.mode {
        case .newDatabase(let name, let replace):
            if try exists(name, admin) {
                guard replace else {
                    throw BackupError(.targetBusy, "database \(name) already exists; choose another --to-database or pass --force to replace it")
                }
                try dropDatabase(name, admin: admin)
            }
        case .inPlace(let terminate, _):
            guard try exists(target.database, admin) else {
                throw BackupError(.notFound, "database \(target.database) does not exist; restore with --to-database \(target.database) instead")
            }
            let sessions = try otherSessions(target.database, admin)
            if sessions > 0 && !terminate {
                throw BackupError(.targetBusy, "\(sessions) other session(s) are connected to \(target.database); stop the applications using it or pass --force to disconnect them")
            }
            if try exists(plan.work, admin) {
                throw BackupError(.targetBusy, "database \(plan.work) already exists; try again in a second")
            }
        case .scratch:
            if try exists(plan.work, admin) {
                throw BackupError(.targetBusy, "scratch database \(plan.work) already exists; try again in a second")
            }
        }
    }

    /// Sessions of people and applications, not the server's own: an autovacuum worker that happens to
    /// be in a freshly restored database is a superuser process that a role without SUPERUSER may not
    /// terminate ("must be a superuser to terminate superuser process", seen when verify dropped its
    /// scratch database on a loaded machine), and DROP DATABASE and RENAME stop autovacuum workers
    /// themselves.
    static let clientSessions = "backend_type = 'client backend'"

    private func dropDatabase(_ name: String, admin: PostgresConnection) throws {
        try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND \(Self.clientSessions)", name)
        try admin.executeFormatted("DROP DATABASE IF EXISTS %I", name)
    }

    private func swap(_ plan: Plan, terminate: Bool, admin: PostgresConnection, logger: Logger, swapped: inout Bool) throws {
        let original = target.database
        let sessions = try otherSessions(original, admin)
        if sessions > 0 {
            guard terminate else {
                throw BackupError(.targetBusy, "\(sessions) session(s) connected to \(original) during the restore; it was left untouched; pass --force to disconnect them")
            }
            try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND \(Self.clientSessions)", original)
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
