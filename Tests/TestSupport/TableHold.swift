import Foundation

/// A session of the superuser that holds a new table `held` of `database` locked, so that a backup's
/// pg_dump waits on it: the backup is under way for as long as the test wants. `release()` ends that
/// session on the server too (killing its psql alone would leave the server sleeping on, lock held).
package struct TableHold {
    private let process: Background
    private let server: PostgresServer
    private let database: String

    /// Creates `held` in `database` (owned by the backup role), locks it and waits until the lock is granted.
    package static func start(_ server: PostgresServer, database: String, pidFile: String) async throws -> TableHold {
        try await server.psql("CREATE TABLE held (id int); ALTER TABLE held OWNER TO \(server.user)", database: database)
        let process = try await Background.start(
            "\(Shell.quote(Paths.pgTool("psql"))) -X -q -h 127.0.0.1 -p \(server.port) -U postgres -d \(database)"
                + " -c 'BEGIN; LOCK TABLE held; SELECT pg_sleep(300)'",
            environment: ["PGPASSWORD": server.superuserPassword], pidFile: pidFile)
        try await waitUntil("the test's lock on \(database).held") {
            try await server.psql("SELECT count(*) FROM pg_locks WHERE relation = 'held'::regclass AND granted",
                                  database: database) == "1"
        }
        return TableHold(process: process, server: server, database: database)
    }

    /// Ends the holding session, so whatever waits on the table goes on.
    package func release() async throws {
        process.end()
        try await server.psql("""
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = '\(database)' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()
            """)
    }

    /// Kills the holding psql: for a `defer`, which cannot wait.
    package func end() { process.end() }
}
