import Foundation
import Testing

/// A second, brand-new PostgreSQL cluster for one test, started by `scripts/pg-sandbox` like the shared one,
/// with a superuser of the test's choosing (managed services have no `postgres` role). Stopped by `stop()`.
package struct FreshCluster {
    package let directory: String
    package let port: Int
    package let superuser: String
    package let password: String
    /// The directory of `major`'s client wrappers (`scripts/pg-versions clients`) when the cluster is of a
    /// major given to `start`; nil for the test run's own major, whose clients are on `PATH`.
    package var clients: String?

    /// `major`: another PostgreSQL major than the test run's (one `scripts/pg-versions` prepared).
    package static func start(superuser: String = "admin", major: Int? = nil) async throws -> FreshCluster {
        let directory = try Paths.temporaryDirectory("fresh-cluster")
        var variables = ["PG_SANDBOX_SUPERUSER=\(superuser)"]
        var clients: String?
        if let major {
            variables.append("PG_SANDBOX_MAJOR=\(major)")
            let made = try await Shell.run("\(Paths.root)/scripts/pg-versions", ["clients", String(major)])
            guard made.status == 0 else { throw TestFailure("pg-versions clients \(major) failed: \(made.stderr)") }
            clients = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let started = try await Shell.run("/usr/bin/env", variables + ["\(Paths.root)/scripts/pg-sandbox", "start", directory])
        guard started.status == 0, let port = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("pg-sandbox start failed: \(started.stderr)")
        }
        let password = try String(contentsOfFile: "\(directory)/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return FreshCluster(directory: directory, port: port, superuser: superuser, password: password, clients: clients)
    }

    /// This cluster's client `name` (`psql`, `pg_dump`, …).
    package func tool(_ name: String) -> String { clients.map { "\($0)/\(name)" } ?? Paths.pgTool(name) }

    package func stop() { _ = system("'\(Paths.root)/scripts/pg-sandbox' stop '\(directory)'; rm -rf '\(directory)'") }

    package var environment: [String: String] {
        ["PGHOST": "127.0.0.1", "PGPORT": String(port), "PGUSER": superuser, "PGPASSWORD": password, "PGDATABASE": "postgres"]
    }

    @discardableResult
    package func psql(_ sql: String, database: String = "postgres") async throws -> String {
        try await Self.psql(sql, database: database, environment: environment, psql: tool("psql"))
    }

    package static func psql(_ sql: String, database: String, environment: [String: String], psql: String = Paths.pgTool("psql")) async throws -> String {
        let result = try await Shell.run(psql, ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
                                         environment: environment)
        guard result.status == 0 else { throw TestFailure("psql failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A config whose job restores onto this cluster as `user` (password in a file of its own).
    package func restoreConfig(in directory: String, backups: String, user: String? = nil, password: String? = nil) throws -> String {
        let passwordFile = "\(directory)/fresh-\(port)-password"
        FileManager.default.createFile(atPath: passwordFile, contents: Data((password ?? self.password).utf8),
                                       attributes: [.posixPermissions: 0o600])
        let path = "\(directory)/fresh-\(port).conf"
        try """
            postgres.host = 127.0.0.1
            postgres.port = \(port)
            postgres.user = \(user ?? superuser)
            postgres.password_file = \(passwordFile)
            local.path = \(backups)
            postgres.database = postgres
            \(clients.map { "postgres.pg_dump = \($0)/pg_dump" } ?? "")

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

extension FreshCluster {
    /// `backup restore` of `file` from `cli`'s destination into `database` on this cluster, as `user`.
    package func restore(
        _ cli: BackupCLI, file: String, into database: String, as user: String? = nil, password: String? = nil,
        _ extra: [String] = []
    ) async throws -> Shell.Result {
        let config = try restoreConfig(in: cli.directory, backups: cli.backups, user: user, password: password)
        return try await Shell.run(Paths.backup, ["restore", "--config", config, "--backup", cli.path(file), "--to-database", database] + extra)
    }

    /// Every role and database name, to show that a failed restore left nothing behind.
    package func rolesAndDatabases() async throws -> String {
        try await psql("""
            SELECT (SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles) || ' '
                || (SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database)
            """)
    }
}
