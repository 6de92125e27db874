import Engine
import Foundation
import Logging
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

public struct PostgresSource: Source {
    /// On cancellation or a failed sink, pg_dump gets SIGTERM and, if it lingers, SIGKILL.
    static let platformOptions: PlatformOptions = {
        var options = PlatformOptions()
        options.teardownSequence = [.send(signal: .terminate, allowedDurationToNextStep: .seconds(3))]
        return options
    }()

    public var target: PostgresTarget
    public let format: String
    public let pgDumpOverride: String?
    public let countRows: Bool
    /// How long pg_dump may receive nothing before it is stopped (`postgres.stall_timeout`), and as written.
    public var stallTimeout: Duration = .seconds(300)
    /// What pg_dump's `--compress` gets for a custom dump (`postgres.compress`): `0`, compression left to
    /// the stages, or its own per-table compression.
    public var compress = "0"
    public var stallTimeoutText = "5m"
    /// `verify_host`, `verify_port`, `verify_user`, `verify_password` without the prefix: another server
    /// for verify's scratch restores, applied over the job's own connection settings.
    public var verifyServer: [String: String] = [:]

    public var databaseName: String? { target.database }

    /// From this size on, `backup check` advises the custom format (measured: a 1.1 GB dump restored in
    /// 0.66 of the time with two jobs on two cores; more cores, more gain).
    static let largeDatabase: Int64 = 1 << 30

    public func prepare(logger: Logger) async throws -> SourceInfo {
        let connection = try PostgresConnection(target)
        let size = try connection.scalar("SELECT pg_database_size(current_database())").flatMap { Int64($0) }
        let tool = try await PgDumpLocator.find(serverMajor: connection.serverMajor, override: pgDumpOverride)
        logger.debug("using pg_dump", metadata: ["path": "\(tool.path)", "version": "\(tool.version)"])
        var info = SourceInfo(
            database: target.database, serverVersion: connection.serverVersion,
            dumpToolVersion: tool.version, dumpTool: tool.path, format: format,
            fileExtension: format == "custom" ? "dump" : "sql", estimatedBytes: size)
        if format == "plain", let size, size >= Self.largeDatabase {
            info.advice = "a plain dump restores in one session; at \(ByteCount.format(size)), postgres.format = "
                + "custom restores with pg_restore --jobs, the data and the indexes several at once"
        }
        return info
    }

    /// Dumps inside one exported snapshot: pg_dump reads it, and so do the row counts and the database's
    /// globals, so all three describe the same moment. A plain dump's rows are counted as it streams past
    /// (``CopyRowCounter``); a custom dump's, which we cannot read in flight, by `count(*)` afterwards.
    public func dump(_ info: SourceInfo, logger: Logger, sink: DumpSink) async throws -> DumpDetails {
        let snapshot = try PostgresConnection(target)
        try snapshot.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        guard let snapshotID = try snapshot.scalar("SELECT pg_export_snapshot()") else {
            throw BackupError(.sourceFailed, "PostgreSQL did not export a snapshot")
        }
        let counter = countRows && format == "plain" ? CopyRowCounter() : nil
        try await runPgDump(info, snapshotID: snapshotID, counter: counter, sink: sink)
        let counts = countRows ? try counter?.counts ?? DatabaseGlobals.rowCounts(snapshot) : nil
        let globals = try DatabaseGlobals.read(snapshot)
        try snapshot.execute("COMMIT")
        return DumpDetails(rowCounts: counts, sidecars: [(DatabaseGlobals.suffix, try globals.encoded())])
    }

    /// Runs `body` with the environment pg_dump, psql and pg_restore run with. The password is never in
    /// their arguments: it is in a ``PassFile`` that lives until `body` returns (or, where the system cannot
    /// make one, or the password holds a line break, in `PGPASSWORD`).
    func withChildEnvironment<T>(_ body: (Environment) async throws -> T) async throws -> T {
        let passFile = target.password.flatMap { $0.contains("\n") ? nil : PassFile(password: $0) }
        var environment: [Environment.Key: String?] = [
            "PGCONNECT_TIMEOUT": String(target.connectTimeout), "PGAPPNAME": "backup",
            "PGPASSWORD": nil, "PGPASSFILE": nil, "PGOPTIONS": nil, "PGSERVICE": nil,
        ]
        if let passFile {
            environment["PGPASSFILE"] = passFile.path
            // Nor does it reach them through a variable of ours that held it (POSTGRESQL_PASSWORD, say).
            for (name, value) in ProcessInfo.processInfo.environment where value == target.password {
                environment[Environment.Key(stringLiteral: name)] = .some(nil)
            }
        } else if let password = target.password {
            environment["PGPASSWORD"] = password
        }
        let result = try await body(.inherit.updating(environment))
        withExtendedLifetime(passFile) {}
        return result
    }

    var connectionArguments: [String] {
        ["--host", target.host, "--port", String(target.port), "--username", target.user, "--no-password"]
    }

    private func runPgDump(
        _ info: SourceInfo, snapshotID: String, counter: CopyRowCounter?, sink: DumpSink
    ) async throws {
        var arguments = connectionArguments + [
            "--dbname", PostgresTarget.dbnameArgument(target.database),
            "--format", format == "custom" ? "custom" : "plain", "--snapshot", snapshotID,
        ]
        // By default we compress ourselves (a compressed custom dump would be compressed twice);
        // `postgres.compress` has pg_dump compress each table instead, so pg_restore can seek in the file.
        if format == "custom" { arguments += ["--compress", compress] }
        try await runDumpTool(info.dumpTool, arguments: arguments, counter: counter, sink: sink)
    }

    /// Runs pg_dump (`tool`) with `arguments`, its output streamed to `sink`, stopped when the server sends
    /// nothing for `stall_timeout`; throws `.sourceFailed` naming the database.
    private func runDumpTool(_ tool: String, arguments: [String], counter: CopyRowCounter?,
                             sink: DumpSink) async throws {
        // The tool writes into a pipe of ours that a thread of ours reads (``PipeReader``).
        let pipe = try FileDescriptor.pipe()
        defer { try? pipe.readEnd.close() }
        let result = try await withChildEnvironment { environment in try await Subprocess.run(
            .path(FilePath(tool)), arguments: Arguments(arguments),
            environment: environment, platformOptions: Self.platformOptions,
            input: .none, output: .fileDescriptor(pipe.writeEnd, closeAfterSpawningProcess: true), error: .sequence
        ) { execution in
            async let errors = StderrTail.collect(execution.standardError)
            let watch = StallWatch()
            // pg_dump waits on the server without a timeout of its own: if nothing arrives for
            // stall_timeout, it is killed, which closes the pipe and ends the reader.
            let stalled = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { [stallTimeout] in
                    do { try await watch.untilStalled(stallTimeout) } catch { return false }
                    try? execution.send(signal: .kill)
                    return true
                }
                try await PipeReader.read(pipe.readEnd, counter: counter, watch: watch, into: sink)
                group.cancelAll()
                return try await group.next() ?? false
            }
            return (try await errors, stalled)
        } }
        if result.closureResult.1 {
            throw BackupError(.sourceFailed,
                "pg_dump received nothing from \(target.host):\(target.port) for \(stallTimeoutText)"
                    + " while dumping \(target.database), so it was stopped:"
                    + " the server may be hung or the network down; check them,"
                    + " or raise postgres.stall_timeout if the dump may legitimately wait that long (a lock)")
        }
        // A cancelled backup's pg_dump was stopped by a signal: that is the cancellation, not a failure.
        try Task.checkCancellation()
        guard result.terminationStatus.isSuccess else {
            let stderr = result.closureResult.0.isEmpty ? "" : ": \(result.closureResult.0)"
            let how: String
            switch result.terminationStatus {
            case .exited(let code): how = "exited with status \(code)"
            case .signaled(let signal): how = "was killed by signal \(signal)"
            }
            throw BackupError(.sourceFailed, "pg_dump \(how) while dumping \(target.database)\(stderr)")
        }
    }
}
