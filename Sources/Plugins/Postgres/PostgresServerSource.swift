import Engine
import Foundation
import Logging

/// `postgres.database = *`: the whole server. At the start of every run it lists the databases that
/// `postgres.include` and `postgres.exclude` select (templates and databases that allow no connections
/// never), each backed up as a job of its own by a ``PostgresSource``. Its own dump is the server's roles,
/// memberships and tablespaces as data (``ServerGlobals``), password hashes only when asked, once per run.
public struct PostgresServerSource: ServerSource {
    /// The source of the database the server is asked through (`postgres`); every database's source is
    /// this one with its name.
    public let base: PostgresSource
    /// Glob patterns on database names (`fnmatch`): with `include`, only those matching one; never those
    /// matching one of `exclude`.
    public let include: [String]
    public let exclude: [String]
    /// `postgres.role_passwords = include`: the roles document carries each role's password hash.
    public var rolePasswords = false

    public var secretSetting: String? { rolePasswords ? "postgres.role_passwords" : nil }
    /// The databases of the run whose roles this source dumps (``forRun(databases:)``); nil: ask the server.
    var runDatabaseNames: [String]?

    public func forRun(databases: [String]) -> any ServerSource {
        var source = self
        source.runDatabaseNames = databases
        return source
    }

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
        return SourceInfo(database: "*", serverVersion: connection.serverVersion,
                          dumpToolVersion: "server globals format \(ServerGlobals.currentVersion)", dumpTool: "libpq",
                          format: ServerGlobals.format, fileExtension: "globals", estimatedBytes: nil)
    }

    /// The server's roles, memberships and tablespaces, and the databases the run found, as one JSON
    /// document (``ServerGlobals``).
    public func dump(_ info: SourceInfo, logger: Logger, sink: DumpSink) async throws -> DumpDetails {
        var found = runDatabaseNames ?? []
        if runDatabaseNames == nil { found = try await databases(logger: logger) }
        let globals = try ServerGlobals.read(try PostgresConnection(base.target), databases: found,
                                             passwords: rolePasswords)
        let bytes = try globals.encoded()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + DumpSink.preferredChunkSize)
            try await sink.send(Array(bytes[offset..<end]))
            offset = end
        }
        let withPasswords = globals.roles.filter { $0.password != nil }.count
        let counts = "\(globals.roles.count) roles (\(withPasswords) with passwords), "
            + "\(globals.memberships.count) memberships, \(globals.tablespaces.count) tablespaces"
        logger.info("the server's roles: \(counts)")
        return DumpDetails(rowCounts: nil, sidecars: [])
    }

    /// Whether `name` matches the glob `pattern` (`*`, `?`, `[…]`), as the shell matches a file name.
    static func matches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
