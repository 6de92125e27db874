import Foundation

/// One real PostgreSQL server for the whole test run, started by `scripts/pg-sandbox` on a free loopback
/// port in a temporary directory, as the `postgres` user, and stopped when the test process exits.
package final class PostgresServer: Sendable {
    // Sendable: every stored property is an immutable value.
    package let directory: String
    package let port: Int
    package let superuserPassword: String
    /// The role the backups run as; it owns the test databases.
    package let user = "backup"
    package let password = PostgresServer.passwordForTests
    package static let passwordForTests = "backup-Secret-93xq"

    /// Started once, on first use; every test awaits the same start.
    private static let starting = Task { try await PostgresServer() }

    package static var shared: PostgresServer {
        get async throws { try await starting.value }
    }

    private init() async throws {
        directory = try Paths.temporaryDirectory("pg")
        let started = try await Shell.run("\(Paths.root)/scripts/pg-sandbox", ["start", directory])
        guard started.status == 0, let port = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("pg-sandbox start failed: \(started.stderr)")
        }
        self.port = port
        superuserPassword = try String(contentsOfFile: "\(directory)/password", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        PostgresServer.directoryToStop.set(directory)
        atexit {
            // At exit no async work can run; system() is synchronous and needs no thread pool.
            let directory = PostgresServer.directoryToStop.value
            _ = system("'\(Paths.root)/scripts/pg-sandbox' stop '\(directory)' && rm -rf '\(directory)'")
        }
        // CREATEDB: restore and verify create databases as the job's own role.
        try await psql("CREATE ROLE \(user) LOGIN CREATEDB PASSWORD '\(password)'")
    }

    private static let directoryToStop = Locked("")

    /// Database names on the server.
    package func databases() async throws -> [String] {
        try await psql("SELECT datname FROM pg_database ORDER BY 1").split(separator: "\n").map(String.init)
    }

    /// Runs SQL as the superuser over TCP; throws with psql's message on failure.
    @discardableResult
    package func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let result = try await Shell.run(Paths.pgTool("psql"), [
            "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres",
            "-d", database, "-c", sql,
        ], environment: ["PGPASSWORD": superuserPassword])
        guard result.status == 0 else { throw TestFailure("psql failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Environment for system tools (psql, pg_dump, pg_restore) connecting as the superuser.
    package var superuserEnvironment: [String: String] {
        ["PGHOST": "127.0.0.1", "PGPORT": String(port), "PGUSER": "postgres", "PGPASSWORD": superuserPassword]
    }

    /// A new database owned by the backup role, filled with varied sample data.
    package func makeSampleDatabase(_ name: String, rows: Int = 2000) async throws {
        try await psql("CREATE DATABASE \(name) OWNER \(user)")
        try await psql("SET ROLE \(user);\n" + SampleData.schema(rows: rows), database: name)
    }

    /// A new empty database owned by the superuser, to restore into.
    package func makeEmptyDatabase(_ name: String) async throws {
        try await psql("CREATE DATABASE \(name)")
    }

    /// The plain pg_dump of `database`, with the per-dump random `\restrict` key fixed, for comparing.
    package func dumpForComparison(_ database: String) async throws -> String {
        try await Self.dumpForComparison(database, environment: superuserEnvironment)
    }

    package static func dumpForComparison(_ database: String, environment: [String: String]) async throws -> String {
        let result = try await Shell.run(Paths.pgTool("pg_dump"), ["--restrict-key=compare", "-d", database],
                                         environment: environment)
        guard result.status == 0 else { throw TestFailure("pg_dump \(database) failed: \(result.stderr)") }
        return result.stdout
    }

    /// A config file for one job backing up `database` into `directory`.
    package func config(job: String = "app", database: String, directory: String, extra: String = "") -> String {
        """
        # written by the tests
        postgres.host = 127.0.0.1
        postgres.port = \(port)
        postgres.user = \(user)
        postgres.password = ${TEST_PGPASSWORD}
        local.path = \(directory)

        [\(job)]
        postgres.database = \(database)
        \(extra)
        """
    }
}

package struct TestFailure: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

package enum SampleData {
    /// Tables of many types, a view, a sequence, indexes, a foreign key, a function, and NULLs and
    /// non-ASCII text, so a restore that loses anything shows up in the comparison.
    package static func schema(rows: Int) -> String {
        """
        CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE,
            balance numeric(12,2), created timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00', note text);
        CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers(id),
            items jsonb, total numeric(12,2), shipped boolean, photo bytea, tags text[]);
        CREATE INDEX orders_customer ON orders (customer_id);
        CREATE SEQUENCE invoice_numbers START 1000;
        CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 500;
        CREATE FUNCTION order_count(c int) RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM orders WHERE customer_id = c';
        INSERT INTO customers (name, email, balance, note)
            SELECT 'Kunde ' || g || ' Ünïcødé ✓', 'c' || g || '@example.test', g * 1.25,
                   CASE WHEN g % 7 = 0 THEN NULL ELSE repeat('note ', g % 20) END
            FROM generate_series(1, \(rows)) g;
        INSERT INTO orders (customer_id, items, total, shipped, photo, tags)
            SELECT 1 + g % \(rows), jsonb_build_object('sku', 'SKU-' || g, 'qty', g % 5, 'nested', jsonb_build_array(g, 'x')),
                   (g % 1000) + 0.99, g % 2 = 0, decode(md5(g::text), 'hex'), ARRAY['a' || g, 'b']
            FROM generate_series(1, \(rows * 3)) g;
        SELECT setval('invoice_numbers', 1234);
        """
    }
}
