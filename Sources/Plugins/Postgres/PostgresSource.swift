import Engine
import Foundation
import Logging
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// `postgres`: dumps one database with pg_dump, after checking it with a libpq connection.
public struct PostgresSourceFactory: SourceFactory {
    public init() {}
    public let name = "postgres"
    public let summary = "a PostgreSQL database, dumped with pg_dump"
    public let keys = [
        KeySpec("host", .string, default: "localhost", summary: "server host name or address (or a socket directory)"),
        KeySpec("port", .integer(1...65535), default: "5432", summary: "server port"),
        KeySpec("user", .string, required: true, summary: "role that runs the dump"),
        KeySpec("password", .string, secret: true, summary: "that role's password (prefer postgres.password_file)"),
        KeySpec("database", .string, required: true, summary: "database to back up"),
        KeySpec("format", .choice(["plain", "custom"]), default: "plain",
                summary: "plain SQL (restore with psql) or custom (restore with pg_restore)"),
        KeySpec("connect_timeout", .duration, default: "10s", summary: "give up connecting after this long"),
        KeySpec("pg_dump", .string, summary: "path of the pg_dump to use (default: the newest one found that fits the server)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Source {
        let timeout = Int((settings.seconds("connect_timeout") ?? 10).rounded(.up))
        guard timeout >= 1 else { throw SettingError(key: "connect_timeout", message: "must be at least 1s") }
        return PostgresSource(
            target: PostgresTarget(
                host: settings.string("host") ?? "localhost", port: settings.integer("port") ?? 5432,
                user: settings.string("user") ?? "", password: settings.string("password"),
                database: settings.string("database") ?? "", connectTimeout: timeout),
            format: settings.string("format") ?? "plain",
            pgDumpOverride: settings.string("pg_dump"))
    }

    public func defaultJobName(_ settings: PluginSettings) -> String? { settings.string("database") }
}

public struct PostgresSource: Source {
    /// On cancellation or a failed sink, pg_dump gets SIGTERM and, if it lingers, SIGKILL.
    static let platformOptions: PlatformOptions = {
        var options = PlatformOptions()
        options.teardownSequence = [.send(signal: .terminate, allowedDurationToNextStep: .seconds(3))]
        return options
    }()

    public let target: PostgresTarget
    public let format: String
    public let pgDumpOverride: String?

    public func prepare(logger: Logger) async throws -> SourceInfo {
        let connection = try PostgresConnection(target)
        let size = try connection.scalar("SELECT pg_database_size(current_database())").flatMap { Int64($0) }
        let tool = try await PgDumpLocator.find(serverMajor: connection.serverMajor, override: pgDumpOverride)
        logger.debug("using pg_dump", metadata: ["path": "\(tool.path)", "version": "\(tool.version)"])
        return SourceInfo(
            database: target.database, serverVersion: connection.serverVersion,
            dumpToolVersion: tool.version, dumpTool: tool.path, format: format,
            fileExtension: format == "custom" ? "dump" : "sql", estimatedBytes: size)
    }

    public func dump(_ info: SourceInfo, logger: Logger, sink: ([UInt8]) async throws -> Void) async throws {
        var arguments = [
            "--host", target.host, "--port", String(target.port), "--username", target.user,
            "--dbname", target.database, "--no-password", "--format", format == "custom" ? "custom" : "plain",
        ]
        // We compress ourselves; a compressed custom dump would be compressed twice.
        if format == "custom" { arguments += ["--compress", "0"] }
        // The password travels in the child's environment, never in its arguments, so `ps` cannot show it.
        var environment: [Environment.Key: String?] = [
            "PGCONNECT_TIMEOUT": String(target.connectTimeout), "PGAPPNAME": "backup",
            "PGPASSWORD": target.password, "PGOPTIONS": nil, "PGSERVICE": nil,
        ]
        if target.password == nil { environment["PGPASSWORD"] = nil }
        let result = try await Subprocess.run(
            .path(FilePath(info.dumpTool)), arguments: Arguments(arguments),
            environment: .inherit.updating(environment), platformOptions: Self.platformOptions,
            input: .none, output: .sequence, error: .sequence
        ) { execution in
            async let errors = StderrTail.collect(execution.standardError)
            for try await buffer in execution.standardOutput {
                try await sink(buffer.withUnsafeBytes { Array($0) })
            }
            return try await errors
        }
        guard result.terminationStatus.isSuccess else {
            let stderr = result.closureResult.isEmpty ? "" : ": \(result.closureResult)"
            let how: String
            switch result.terminationStatus {
            case .exited(let code): how = "exited with status \(code)"
            case .signaled(let signal): how = "was killed by signal \(signal)"
            }
            throw BackupError(.sourceFailed, "pg_dump \(how) while dumping \(target.database)\(stderr)")
        }
    }
}

/// Keeps the last lines of pg_dump's stderr for the error message, without letting it grow.
enum StderrTail {
    static func collect(_ sequence: SubprocessOutputSequence) async throws -> String {
        var tail: [UInt8] = []
        for try await buffer in sequence {
            tail += buffer.withUnsafeBytes { Array($0) }
            if tail.count > 4096 { tail.removeFirst(tail.count - 4096) }
        }
        let lines = String(decoding: tail, as: UTF8.self).split(separator: "\n").suffix(3)
        return lines.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " | ")
    }
}
