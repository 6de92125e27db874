import Engine
import Foundation
import Logging

/// Restores into a database this restore creates (never into an existing one), so that a failure can
/// always be undone by dropping what it created. In place means: restore beside, then swap names.
extension PostgresSource: RestorableSource {
    public func restore(_ request: RestoreRequest, logger: Logger, feed: DumpFeed) async throws -> RestoreReport {
        if request.mode.isScratch, !verifyServer.isEmpty {
            return try await onServer(verifyServer).restoreHere(request, logger: logger, feed: feed)
        }
        return try await restoreHere(request, logger: logger, feed: feed)
    }

    /// Every check `restore` makes before it changes anything, changing nothing: the server answers with
    /// these credentials, the backup's tablespaces, locale and role map fit it, and the target is free (or
    /// `--force` replaces it) and, in place, exists with no other session connected.
    public func preflight(_ request: RestoreRequest) async throws -> [String] {
        if request.mode.isScratch, !verifyServer.isEmpty {
            return try await onServer(verifyServer).preflightHere(request)
        }
        return try await preflightHere(request)
    }

    private func preflightHere(_ request: RestoreRequest) async throws -> [String] {
        let plan = try plan(request, at: Date())
        let inPlace = if case .inPlace = request.mode { true } else { false }
        let admin = try adminConnection(renaming: inPlace ? target.database : nil)
        let globals = try GlobalsRestore(plan.globals, options: request.options, admin: admin, server: serverName,
                                         logger: Logger(label: "preflight"))
        try globals.preflight(serverMajor: admin.serverMajor)
        let scratch = try checkScratch(request, serverMajor: admin.serverMajor)
        let found = try checkTargets(request, plan: plan, admin: admin, changing: false)
        return ["\(serverName) answers: PostgreSQL \(admin.serverVersion)", found] + (scratch.map { [$0] } ?? [])
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
        let inPlace = if case .inPlace = request.mode { true } else { false }
        let admin = try adminConnection(renaming: inPlace ? target.database : nil)
        let globals = try GlobalsRestore(plan.globals, options: request.options, admin: admin, server: serverName,
                                         logger: logger)
        // Before checkTargets, which may drop a database that --force replaces.
        try globals.preflight(serverMajor: admin.serverMajor)
        _ = try checkScratch(request, serverMajor: admin.serverMajor)
        try checkTargets(request, plan: plan, admin: admin)
        try globals.createDatabase(plan.work, serverMajor: admin.serverMajor)
        let counts: [String: Int64]
        var phases: [RestorePhase] = []
        var swapped = false
        var createdRoles: [String] = []
        do {
            try globals.createRoles(serverMajor: admin.serverMajor)
            createdRoles = globals.createdRoles
            try globals.adopt(plan.work)
            (counts, phases) = try await loadAndCount(request, into: plan.work, serverMajor: admin.serverMajor,
                                                      logger: logger, feed: feed)
            // verify compares and reports every table itself; a restore stops before anything is final.
            if !request.mode.isScratch { try Self.checkRows(counts, against: request.manifest) }
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
        var report = RestoreReport(database: request.mode.isScratch ? plan.work : plan.final, rowCounts: counts,
                                   previousDatabase: plan.previous,
                                   createdRoles: request.mode.isScratch ? [] : createdRoles)
        report.phases = phases
        return report
    }

    /// Loads the dump into `database` and returns its rows per table, and where the time went when the
    /// load ran in parallel.
    private func loadAndCount(
        _ request: RestoreRequest, into database: String, serverMajor: Int, logger: Logger, feed: DumpFeed
    ) async throws -> ([String: Int64], [RestorePhase]) {
        var loaded: [String: Int64]?
        var phases: [RestorePhase] = []
        // Client tools as new as the target server and as the dump: pg_restore refuses an archive from a
        // newer pg_dump, and psql may not know what a newer pg_dump wrote.
        let dumpMajor = Int(request.manifest.dumpToolVersion.prefix { $0.isNumber }) ?? 0
        let toolMajor = max(serverMajor, dumpMajor)
        // A dump by pg_dump 17 or newer sets transaction_timeout, which an older server refuses: it is loaded
        // as a script, whose preamble drops that setting (pg_restore would send it to the server itself).
        let olderServer = serverMajor < 17 && dumpMajor >= 17
        if Self.loadsAsScript(request, serverMajor: serverMajor) {
            let result = try await loadScript(request, into: database, toolMajor: toolMajor, olderServer: olderServer,
                                              feed: feed)
            for (source, count) in result.renamed.sorted(by: { $0.key < $1.key }) {
                let target = request.options.roleMap[source] ?? "?"
                logger.notice(
                    "gave role \(source)'s \(count) ownerships and grants in the dump to \(target) (--map-role)")
            }
            loaded = result.rows
            if loaded == nil {
                logger.info(
                    "counting the restored rows with count(*): psql's COPY tags did not pair with the dump's tables")
            }
        } else if let file = request.localDumpFile {
            phases = try await parallelRestore(file, into: database, toolMajor: toolMajor,
                                               jobs: max(1, request.options.parallelism))
        } else if Self.usesScratch(request) {
            phases = try await scratchRestore(request, into: database, toolMajor: toolMajor, feed: feed)
        } else {
            try await loadArchive(into: database, toolMajor: toolMajor, feed: feed)
        }
        if let loaded { return (loaded, phases) }
        let start = ContinuousClock.now
        let counts = try await DatabaseGlobals.rowCounts(in: retargeted(database),
                                                         sessions: max(1, request.options.parallelism))
        return (counts, phases + [RestorePhase("row counts", seconds: (ContinuousClock.now - start).inSeconds)])
    }

    /// The restored rows must be what the backup recorded, table by table (when it recorded them): a
    /// difference means the load lost or gained rows without an error, and the restore is undone.
    static func checkRows(_ counts: [String: Int64], against manifest: Manifest) throws {
        guard let expected = manifest.rowCounts else { return }
        let wrong = RestorePipeline.compare(expected: expected, restored: counts).filter { !$0.matches }
        guard !wrong.isEmpty else { return }
        let tables = wrong.prefix(5).map { check in
            "\(check.table) (\(check.restored.map { "\($0) rows" } ?? "missing"), the backup recorded "
                + "\(check.expected.map(String.init) ?? "no such table"))"
        }
        let more = wrong.count > 5 ? " and \(wrong.count - 5) more" : ""
        throw BackupError(.sourceFailed, "the restored rows differ from what \(manifest.file) recorded: "
                          + tables.joined(separator: ", ") + more + "; `backup verify` lists every table")
    }

    /// Whether the dump loads through psql as a script: a plain dump; a custom dump whose roles are mapped;
    /// one by pg_dump 17 or newer into an older server (its preamble sets transaction_timeout, which the
    /// script's filter drops; pg_restore would send it to the server itself).
    static func loadsAsScript(_ request: RestoreRequest, serverMajor: Int) -> Bool {
        let dumpMajor = Int(request.manifest.dumpToolVersion.prefix { $0.isNumber }) ?? 0
        return request.manifest.format != "custom" || !request.options.roleMap.isEmpty
            || (serverMajor < 17 && dumpMajor >= 17)
    }

    /// Whether a custom dump that pg_restore cannot read in place is decoded into a scratch copy for a
    /// parallel load: when more than one session is asked for, and, when that is only the default, when the
    /// copy is about the stored file's size (no stage shrank the dump: pg_dump compressed it, or nothing
    /// did). Writing a decoded copy several times the stored size cost more than the parallel load saved
    /// (bench/RESULTS.md, issue 33).
    static func usesScratch(_ request: RestoreRequest) -> Bool {
        guard request.options.parallelism > 1, request.localDumpFile == nil else { return false }
        let manifest = request.manifest
        let expands = manifest.rawBytes > manifest.storedBytes + manifest.storedBytes / 4
        return !(request.options.parallelismIsDefault && expands)
    }

    /// Fails before anything is created when a parallel restore's scratch copy would not fit; nil when the
    /// restore needs no scratch copy.
    func checkScratch(_ request: RestoreRequest, serverMajor: Int) throws -> String? {
        guard Self.usesScratch(request), !Self.loadsAsScript(request, serverMajor: serverMajor) else { return nil }
        return try ScratchFile.checkSpace(in: ScratchFile.directory(request.options.scratchDirectory),
                                          for: request.manifest.rawBytes)
    }

    /// `host:port`, for messages.
    var serverName: String { "\(target.host):\(target.port)" }

    private func retargeted(_ database: String) -> PostgresTarget {
        var copy = target
        copy.database = database
        return copy
    }

    /// A connection to the server's maintenance database, for CREATE/DROP/ALTER DATABASE: `postgres`, or
    /// `template1` when that is missing or is `renaming` (restored in place, so it must be free of sessions).
    func adminConnection(renaming: String? = nil) throws -> PostgresConnection {
        let (first, second) = renaming == "postgres" ? ("template1", "postgres") : ("postgres", "template1")
        do {
            return try PostgresConnection(retargeted(first))
        } catch let error as BackupError where error.code == .databaseMissing {
            return try PostgresConnection(retargeted(second))
        }
    }
}
