import Engine
import Foundation
import Logging
import PluginSupport

/// What a restore will do, settled before it does anything: the databases it touches, and its steps in
/// words for people to read (`describe`).
extension PostgresSource {
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
                throw BackupError(.corrupt, "\(name) cannot be read (\(error));"
                    + " it is damaged or was not written by this tool, and nothing of it is run")
            }
        }
        let plan: Plan
        switch request.mode {
        case .newDatabase(let name, _):
            plan = Plan(work: name, final: name, previous: nil, globals: globals)
        case .inPlace(_, let dropPrevious):
            plan = Plan(work: Self.derived(target.database, "_restoring_\(stamp)"), final: target.database,
                        previous: dropPrevious ? nil : Self.derived(target.database, "_before_restore_\(stamp)"),
                        globals: globals)
        case .scratch:
            plan = Plan(work: Self.derived(request.manifest.database, "_verify_\(stamp)"), final: "", previous: nil,
                        globals: globals)
        }
        for name in [plan.work, plan.previous ?? ""] where name.utf8.count > 63 {
            throw BackupError(.config,
                              "database name \(name) is longer than PostgreSQL's 63 bytes; use a shorter --to-database")
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
        let script = request.manifest.format == "custom" ? "pg_restore -f - | psql" : "psql"
        let jobs = request.options.parallelism
        let sections = jobs > 1 ? "tables and indexes loaded with \(jobs) sessions at once" : "in one session"
        let tool = !request.options.roleMap.isEmpty ? script + ", the --map-role names rewritten on the way"
            : request.manifest.format != "custom" ? "psql"
            : request.localDumpFile != nil ? "pg_restore reading \(request.localDumpFile!) directly: \(sections)"
            : Self.usesScratch(request) ? "pg_restore from a copy decoded into "
                + "\(ScratchFile.directory(request.options.scratchDirectory)) (removed afterwards): \(sections)"
            : "pg_restore in one session and one transaction"
        var steps = ["check \(request.manifest.file) against the SHA-256 in its manifest"]
        var server = self
        if request.mode.isScratch, !verifyServer.isEmpty { server = onServer(verifyServer) }
        if let roles = plan.globals?.roles, !roles.isEmpty {
            // Which roles are missing is the target's to say; unreachable now, the restore will say so.
            if let admin = try? server.adminConnection(),
               let lines = try? GlobalsRestore(plan.globals, options: request.options, admin: admin,
                                               server: server.serverName, logger: Logger(label: "describe"))
                   .describeRoles() {
                steps += lines
            } else {
                let names = roles.map(\.name).joined(separator: ", ")
                steps.append("create whichever of these roles are missing (without passwords): \(names)")
            }
        }
        let rows = request.manifest.rowCounts.map {
            "then count every table's rows: each of the \($0.count) tables must hold what the backup recorded"
        }
        switch request.mode {
        case .newDatabase(let name, let replace):
            if replace { steps.append("drop database \(name) if it exists (--force)") }
            steps.append("create database \(name) on \(target.host):\(target.port) and restore into it with \(tool)")
            if let rows { steps.append(rows) }
        case .inPlace(let terminate, let dropPrevious):
            steps.append(
                "create database \(plan.work) and restore into it with \(tool); \(target.database) is not touched")
            if let rows { steps.append(rows) }
            if terminate { steps.append("then disconnect every other session from \(target.database) (--force)") }
            let aside = plan.previous ?? "(dropped: --drop-previous)"
            steps.append("then rename \(target.database) to \(aside) and \(plan.work) to \(target.database)")
            if dropPrevious { steps.append("then drop the previous \(target.database)") }
        case .scratch:
            steps.append("create scratch database \(plan.work), restore into it with \(tool), count rows,"
                + " drop it and any role it created")
        }
        if plan.globals != nil && !request.mode.isScratch {
            steps.append(
                "then set the database's owner, settings, comment, limits and privileges as the source had them")
        }
        steps.append("if anything fails, drop the database and the roles this restore created")
        return steps
    }
}
