import Testing
@testable import Postgres

/// ``PreambleFilter``: `SET transaction_timeout = 0;` goes from the preamble of a newer pg_dump's script,
/// whatever the chunks it arrives in; the same line after the preamble, and everything else, stays.
@Suite struct PreambleFilterTests {
    static let script = """
        --
        -- PostgreSQL database dump
        --

        \\restrict abc123

        SET statement_timeout = 0;
        SET lock_timeout = 0;
        SET transaction_timeout = 0;
        SET client_encoding = 'UTF8';
        SELECT pg_catalog.set_config('search_path', '', false);

        CREATE TABLE public.t (note text);
        SET transaction_timeout = 0;
        COPY public.t (note) FROM stdin;
        SET transaction_timeout = 0;
        \\.

        """

    static func run(_ text: String, chunk: Int) -> (String, removed: Int) {
        var filter = PreambleFilter()
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            filter.filter(Array(bytes[start..<min(start + chunk, bytes.count)]), into: &out)
            start += chunk
        }
        filter.finish(into: &out)
        return (String(decoding: out, as: UTF8.self), filter.removed)
    }

    @Test(arguments: [1, 7, 64, 100_000])
    func theSettingGoesFromThePreambleOnly(chunk: Int) {
        let (out, removed) = Self.run(Self.script, chunk: chunk)
        #expect(removed == 1)
        #expect(out == Self.script.replacingOccurrences(of: "SET lock_timeout = 0;\nSET transaction_timeout = 0;\n",
                                                        with: "SET lock_timeout = 0;\n"))
        #expect(out.components(separatedBy: "SET transaction_timeout = 0;").count == 3, "the two after the preamble stay")
    }

    @Test func aScriptWithoutItPassesUnchanged() {
        let plain = "SET statement_timeout = 0;\nSET transaction_timeout = 5;\nCREATE TABLE x ();\n"
        #expect(Self.run(plain, chunk: 3) == (plain, 0))
        let long = "SET x = '" + String(repeating: "y", count: 5000) + "';\nSET transaction_timeout = 0;\n"
        #expect(Self.run(long, chunk: 1000) == (long, 0))
        #expect(Self.run("SET transaction_timeout = 0;", chunk: 4) == ("SET transaction_timeout = 0;", 0))
    }
}
