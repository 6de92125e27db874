import Foundation
@testable import Postgres
import Testing
import TestSupport

/// Row counts read from a plain dump as it streams must equal `count(*)`, however the stream is cut.
@Suite struct CopyRowCounterTests {
    /// Hands `bytes` to `scan` in pieces of `chunk` bytes, as a stream would arrive.
    static func cut(_ bytes: [UInt8], every chunk: Int, _ scan: (UnsafeRawBufferPointer) -> Void) {
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            bytes[offset..<end].withUnsafeBytes(scan)
            offset = end
        }
    }

    static func count(_ dump: [UInt8], chunk: Int) -> [String: Int64] {
        let counter = CopyRowCounter()
        cut(dump, every: chunk) { counter.scan($0) }
        return counter.counts
    }

    static let synthetic = Array("""
        CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
        COPY public.not_data (a) FROM stdin;
        END $$;

        --
        -- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: app
        --

        COPY public.t (id, note) FROM stdin;
        1\tfirst\\nline
        2\t\\\\.

        \\.


        --
        -- Data for Name: Odd "Name".x; Type: TABLE DATA; Schema: My Schema; Owner: app
        --

        COPY "My Schema"."Odd ""Name"".x" (a) FROM stdin;
        \\N
        x
        \\.


        --
        -- Data for Name: empty; Type: TABLE DATA; Schema: public; Owner: app
        --

        COPY public.empty  FROM stdin;
        \\.


        """.utf8)

    @Test(arguments: [1, 2, 3, 7, 64, 1 << 20])
    func syntheticDumpInEveryCut(chunk: Int) {
        #expect(Self.count(Self.synthetic, chunk: chunk) ==
                ["public.t": 3, "My Schema.Odd \"Name\".x": 2, "public.empty": 0])
    }

    /// pg_dump's own output of awkward names and values, against count(*) on the same server.
    @Test func realDumpMatchesCountStar() async throws {
        let server = try await PostgresServer.shared
        let database = "rowcount_\(UInt32.random(in: 0...UInt32.max))"
        try await server.psql("CREATE DATABASE \(database)")
        try await server.psql("""
            CREATE SCHEMA "My Schema";
            CREATE TABLE "My Schema"."Odd ""Name"".x" (a text);
            INSERT INTO "My Schema"."Odd ""Name"".x" SELECT E'line\\nbreak \\\\. ' || g FROM generate_series(1, 1234) g;
            INSERT INTO "My Schema"."Odd ""Name"".x" VALUES (NULL), (''), (E'\\\\.');
            CREATE TABLE "user" (id int);
            INSERT INTO "user" SELECT generate_series(1, 70000);
            CREATE TABLE empty (id int);
            CREATE TABLE measurements (at date, v int) PARTITION BY RANGE (at);
            CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            INSERT INTO measurements SELECT date '2025-06-01' + g % 400, g FROM generate_series(1, 5000) g;
            """, database: database)
        let dump = try await Shell.run("/usr/bin/pg_dump", ["-d", database], environment: server.superuserEnvironment)
        try #require(dump.status == 0)
        var expected: [String: Int64] = [:]
        for table in ["My Schema.Odd \"Name\".x": #""My Schema"."Odd ""Name"".x""#, "public.user": #"public."user""#,
                      "public.empty": "public.empty", "public.measurements_2025": "public.measurements_2025",
                      "public.measurements_2026": "public.measurements_2026"] {
            expected[table.key] = Int64(try await server.psql("SELECT count(*) FROM ONLY \(table.value)", database: database))
        }
        #expect(expected["public.user"] == 70000)
        for chunk in [4096, 65536, 1 << 20] {
            #expect(Self.count(Array(dump.stdout.utf8), chunk: chunk) == expected)
        }

        // A restore takes its counts from psql's COPY tags, paired in order with the tables the dump names.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(database).sql")
        try dump.stdout.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try await server.psql("CREATE DATABASE \(database)_restored")
        let loaded = try await Shell.run(
            "/usr/bin/psql", ["-X", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", "\(database)_restored", "-f", file.path],
            environment: server.superuserEnvironment)
        try #require(loaded.status == 0)
        let counter = CopyRowCounter()
        Array(dump.stdout.utf8).withUnsafeBytes { counter.scan($0) }
        let output = Array(loaded.stdout.utf8)
        for chunk in [1, 5, 4096] {
            var tags = CopyTags()
            Self.cut(output, every: chunk) { tags.scan($0) }
            #expect(CopyTags.pair(tables: counter.tables, tags: tags.rows) == expected, "cut every \(chunk) bytes")
        }
    }

    @Test func copyTagsAreExactLinesOnly() {
        var tags = CopyTags()
        Array("SET\nCOPY 12\n set_config \nCOPY 3x\nCOPY \n COPY 4\nCOPY 0\nCOPY 7".utf8).withUnsafeBytes { tags.scan($0) }
        #expect(tags.rows == [12, 0], "a line counts only when it is exactly COPY and digits, and ends")
        #expect(CopyTags.pair(tables: ["public.a"], tags: [1, 2]) == nil)
        #expect(CopyTags.pair(tables: ["public.a", "public.b"], tags: [1, 2]) == ["public.a": 1, "public.b": 2])
    }
}
