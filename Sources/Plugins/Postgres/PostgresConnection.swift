import CLibPQ
import Foundation
import Engine

/// A libpq connection, closed in `deinit`. Used briefly before a dump to check that the server answers,
/// the credentials work and the database exists, and to read facts for the manifest.
final class PostgresConnection {
    private let connection: OpaquePointer

    /// Connects, turning libpq's failure into an error that says which of the three checks failed.
    init(_ target: PostgresTarget) throws {
        var parameters: [(String, String)] = [
            ("host", target.host), ("port", String(target.port)), ("user", target.user),
            ("dbname", target.database), ("connect_timeout", String(max(target.connectTimeout, 2))),
            ("application_name", "backup"),
        ] + PostgresTarget.keepalives
        if let password = target.password { parameters.append(("password", password)) }
        let keys = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer { (keys + values).forEach { free($0) } }
        var keyPointers = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers = values.map { UnsafePointer($0) } + [nil]
        guard let connection = PQconnectdbParams(&keyPointers, &valuePointers, 0) else {
            throw BackupError(.unreachable, "cannot start a connection to \(target) (out of memory)")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw Self.classify(message, target: target)
        }
        self.connection = connection
    }

    deinit { PQfinish(connection) }

    /// The server's version as `15.18`.
    var serverVersion: String {
        let number = Int(PQserverVersion(connection))
        return number >= 100_000
            ? "\(number / 10_000).\(number % 10_000)"
            : "\(number / 10_000).\(number / 100 % 100).\(number % 100)"
    }

    var serverMajor: Int {
        let number = Int(PQserverVersion(connection))
        return number >= 100_000 ? number / 10_000 : number / 100
    }

    /// The first column of the first row of `sql`, or nil.
    func scalar(_ sql: String, _ parameters: String...) throws -> String? {
        try rows(sql, parameters).first?.first ?? nil
    }

    /// Every row of `sql`, with `$1`, `$2`… bound to `parameters` (never spliced into the text).
    func rows(_ sql: String, _ parameters: [String] = []) throws -> [[String?]] {
        let copies = parameters.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers = copies.map { UnsafePointer($0) }
        guard let result = PQexecParams(connection, sql, Int32(parameters.count), nil, &pointers, nil, nil, 0) else {
            throw BackupError(.sourceFailed, "lost the connection to PostgreSQL")
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw BackupError(.sourceFailed, "query failed: \(String(cString: PQresultErrorMessage(result)).trimmed)")
        }
        return (0..<PQntuples(result)).map { row in
            (0..<PQnfields(result)).map { column in
                PQgetisnull(result, row, column) == 0 ? String(cString: PQgetvalue(result, row, column)) : nil
            }
        }
    }

    /// Runs the statement PostgreSQL's `format(template, arguments…)` builds, so identifiers (`%I`) and
    /// literals (`%L`) are quoted by the server, never by string splicing here.
    func executeFormatted(_ template: String, _ arguments: String...) throws {
        try executeFormatted(template, arguments)
    }

    func executeFormatted(_ template: String, _ arguments: [String]) throws {
        let placeholders = (0..<arguments.count).map { ", $\($0 + 2)::text" }.joined()
        let formatted = try rows("SELECT format($1::text\(placeholders))", [template] + arguments)
        guard let statement = formatted.first?.first ?? nil else {
            throw BackupError(.sourceFailed, "PostgreSQL could not format: \(template)")
        }
        try execute(statement)
    }

    /// Runs a statement that returns no rows.
    func execute(_ sql: String, _ parameters: String...) throws {
        _ = try rows(sql, parameters)
    }

    /// libpq reports every failure as text; the three a person can fix differently are told apart here.
    static func classify(_ message: String, target: PostgresTarget) -> BackupError {
        let text = message.trimmed.replacingOccurrences(of: "\n", with: " ")
        let lower = text.lowercased()
        if lower.contains("password authentication failed") || lower.contains("no password supplied")
            || lower.contains("authentication failed")
            || lower.contains("role \"") && lower.contains("does not exist") {
            return BackupError(.authentication,
                "PostgreSQL at \(target.host):\(target.port) refused user \(target.user):"
                    + " check postgres.user and the password (\(text))")
        }
        if lower.contains("database \"") && lower.contains("does not exist") {
            return BackupError(.databaseMissing,
                "database \(target.database) does not exist on \(target.host):\(target.port); check postgres.database")
        }
        // Only a timeout that fired is said as one: a refusal or a name that does not resolve fails at once,
        // and "within 10s" would send people after a timeout that never ran.
        let how = lower.contains("connection refused") ? "(connection refused)"
            : lower.contains("could not translate host name") ? "(the host name does not resolve)"
            : lower.contains("timeout expired") ? "within \(target.connectTimeout)s" : "(no connection)"
        return BackupError(.unreachable,
            "cannot reach PostgreSQL at \(target.host):\(target.port) \(how):"
                + " check postgres.host, postgres.port and the network (\(text))")
    }
}
