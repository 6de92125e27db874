import Engine
import Foundation
@testable import Postgres
import Testing
import TestSupport

/// A restore's row counts: several sessions at once count what one session counts, table by table; the
/// sessions beyond the first are a help (one that cannot connect leaves its share to the others), and a
/// count that fails in any session fails the whole count.
@Suite struct RowCountTests {
    @Test func severalSessionsCountWhatOneCounts() async throws {
        let server = try await PostgresServer.shared
        try await server.psql("DROP DATABASE IF EXISTS rowcount_src")
        try await server.psql("CREATE DATABASE rowcount_src")
        try await server.psql("""
            CREATE SCHEMA "Odd Schema";
            CREATE TABLE big AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 20000) g;
            CREATE TABLE "Odd Schema"."Mixed Case" AS SELECT g FROM generate_series(1, 7) g;
            CREATE TABLE empty (id int);
            CREATE TABLE parent (id int);
            CREATE TABLE child () INHERITS (parent);
            INSERT INTO parent VALUES (1), (2);
            INSERT INTO child SELECT generate_series(1, 5);
            CREATE TABLE middle AS SELECT g FROM generate_series(1, 1234) g;
            """, database: "rowcount_src")
        let target = PostgresTarget(host: "127.0.0.1", port: server.port, user: "postgres",
                                    password: server.superuserPassword, database: "rowcount_src", connectTimeout: 10)
        let expected: [String: Int64] = ["public.big": 20000, "Odd Schema.Mixed Case": 7, "public.empty": 0,
                                         "public.parent": 2, "public.child": 5, "public.middle": 1234]
        for sessions in [1, 2, 3, 8] {
            #expect(try await DatabaseGlobals.rowCounts(in: target, sessions: sessions) == expected, "\(sessions) sessions")
        }
        var wrong = target
        wrong.password = "not-the-password"
        await #expect(throws: BackupError.self) { try await DatabaseGlobals.rowCounts(in: wrong, sessions: 3) }
        // A role that may hold one connection: the sessions that cannot connect leave the tables to it.
        try await server.psql("DROP ROLE IF EXISTS rowcount_one; CREATE ROLE rowcount_one LOGIN PASSWORD 'one-Pass-77' "
                              + "CONNECTION LIMIT 1; GRANT pg_read_all_data TO rowcount_one")
        var one = target
        (one.user, one.password) = ("rowcount_one", "one-Pass-77")
        #expect(try await DatabaseGlobals.rowCounts(in: one, sessions: 4) == expected)
        // A table one of the sessions may not read: its error ends the count, whichever thread met it.
        var backup = target
        (backup.user, backup.password) = (server.user, server.password)
        try await server.psql("GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(server.user); REVOKE ALL ON middle FROM PUBLIC",
                              database: "rowcount_src")
        try await server.psql("GRANT USAGE ON SCHEMA \"Odd Schema\" TO \(server.user); "
                              + "GRANT SELECT ON \"Odd Schema\".\"Mixed Case\" TO \(server.user); REVOKE SELECT ON middle FROM \(server.user)",
                              database: "rowcount_src")
        for sessions in [1, 3] {
            let error = await #expect(throws: BackupError.self) {
                try await DatabaseGlobals.rowCounts(in: backup, sessions: sessions)
            }
            #expect(error?.message.contains("middle") == true, "\(String(describing: error))")
        }
        try await server.psql("DROP DATABASE rowcount_src")
        try await server.psql("DROP ROLE rowcount_one")
    }
}
