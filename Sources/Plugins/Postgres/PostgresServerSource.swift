import Engine
import Foundation
import Logging

/// `postgres.database = *`: the whole server. At the start of every run it lists the databases that
/// `postgres.include` and `postgres.exclude` select (templates and databases that allow no connections
/// never), each backed up as a job of its own by a ``PostgresSource``. Its own dump is the server's roles
/// and tablespaces (`pg_dumpall --globals-only`, without role passwords), once per run.
public struct PostgresServerSource: ServerSource {
    /// The source of the database the server is asked through (`postgres`); every database's source is
    /// this one with its name.
    public let base: PostgresSource
    /// Glob patterns on database names (`fnmatch`): with `include`, only those matching one; never those
    /// matching one of `exclude`.
    public let include: [String]
    public let exclude: [String]

    public func databases(logger: Logger) async throws -> [String] {
        let connection = try PostgresConnection(base.target)
        let rows = try connection.rows(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY datname")
        let names = rows.compactMap { $0.first ?? nil }
        return names.filter { name in
            (include.isEmpty || include.contains { Self.matches($0, name) })
                && !exclude.contains { Self.matches($0, name) }
        }
    }

    public func source(forDatabase name: String) -> any Source {
        var source = base
        source.target.database = name
        return source
    }

    public func prepare(logger: Logger) async throws -> SourceInfo {
        let connection = try PostgresConnection(base.target)
        let tool = try await PgDumpLocator.find(serverMajor: connection.serverMajor, override: base.pgDumpOverride)
        let dumpall = (tool.path as NSString).deletingLastPathComponent + "/pg_dumpall"
        guard FileManager.default.isExecutableFile(atPath: dumpall) else {
            throw BackupError(.toolMissing, "no pg_dumpall beside \(tool.path), to dump the server's roles; "
                + "install PostgreSQL's client tools in full")
        }
        return SourceInfo(database: "*", serverVersion: connection.serverVersion, dumpToolVersion: tool.version,
                          dumpTool: dumpall, format: "plain", fileExtension: "globals.sql", estimatedBytes: nil)
    }

    public func dump(_ info: SourceInfo, logger: Logger, sink: DumpSink) async throws -> DumpDetails {
        let arguments = base.connectionArguments + [
            "--dbname", PostgresTarget.dbnameArgument(base.target.database), "--globals-only", "--no-role-passwords",
        ]
        try await base.runDumpTool(info.dumpTool, named: "pg_dumpall", arguments: arguments, counter: nil,
                                   sink: sink, dumping: "the server's roles and tablespaces")
        return DumpDetails(rowCounts: nil, sidecars: [])
    }

    /// Whether `name` matches the glob `pattern` (`*`, `?`, `[…]`), as the shell matches a file name.
    static func matches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
