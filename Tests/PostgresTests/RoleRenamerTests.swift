import Foundation
@testable import Postgres
import Testing

/// `--map-role` rewrites a role's name only where a statement names a role, however the script is cut;
/// the same name in data, strings, comments, function bodies or as an object's name passes unchanged.
@Suite struct RoleRenamerTests {
    static let map = ["postgres": "admin", "Mixed Case": "other \"one\""]

    static func rewrite(_ script: String, every chunk: Int = .max) -> (String, [String: Int]) {
        var renamer = RoleRenamer(map: map)
        var out: [UInt8] = []
        CopyRowCounterTests.cut(Array(script.utf8), every: min(chunk, max(1, script.utf8.count))) { renamer.rewrite($0, into: &out) }
        renamer.finish(into: &out)
        return (String(decoding: out, as: UTF8.self), renamer.renamed)
    }

    /// Each role position pg_dump writes, and a name it must not touch beside each.
    static let cases: [(String, String)] = [
        ("ALTER TABLE public.postgres OWNER TO postgres;", #"ALTER TABLE public.postgres OWNER TO "admin";"#),
        ("ALTER FOREIGN DATA WRAPPER useless OWNER TO postgres;", #"ALTER FOREIGN DATA WRAPPER useless OWNER TO "admin";"#),
        ("ALTER LARGE OBJECT 16385 OWNER TO Postgres;", #"ALTER LARGE OBJECT 16385 OWNER TO "admin";"#),
        (#"ALTER SCHEMA s OWNER TO "Postgres";"#, #"ALTER SCHEMA s OWNER TO "Postgres";"#),
        (#"ALTER SCHEMA s OWNER TO "Mixed Case";"#, #"ALTER SCHEMA s OWNER TO "other ""one""";"#),
        ("GRANT SELECT,INSERT ON TABLE public.t TO reader, postgres WITH GRANT OPTION;",
         #"GRANT SELECT,INSERT ON TABLE public.t TO reader, "admin" WITH GRANT OPTION;"#),
        ("GRANT SELECT(postgres) ON TABLE public.t TO PUBLIC;", "GRANT SELECT(postgres) ON TABLE public.t TO PUBLIC;"),
        ("GRANT ALL ON FUNCTION public.f(postgres integer) TO postgres;", #"GRANT ALL ON FUNCTION public.f(postgres integer) TO "admin";"#),
        ("REVOKE ALL ON SCHEMA public FROM postgres;", #"REVOKE ALL ON SCHEMA public FROM "admin";"#),
        ("REVOKE GRANT OPTION FOR SELECT ON t FROM a, postgres CASCADE;", #"REVOKE GRANT OPTION FOR SELECT ON t FROM a, "admin" CASCADE;"#),
        ("GRANT USAGE ON SCHEMA s TO a GRANTED BY postgres;", #"GRANT USAGE ON SCHEMA s TO a GRANTED BY "admin";"#),
        ("ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA postgres GRANT SELECT ON TABLES TO postgres;",
         #"ALTER DEFAULT PRIVILEGES FOR ROLE "admin" IN SCHEMA postgres GRANT SELECT ON TABLES TO "admin";"#),
        ("ALTER DEFAULT PRIVILEGES FOR USER x, postgres REVOKE ALL ON FUNCTIONS FROM PUBLIC, postgres;",
         #"ALTER DEFAULT PRIVILEGES FOR USER x, "admin" REVOKE ALL ON FUNCTIONS FROM PUBLIC, "admin";"#),
        ("CREATE POLICY postgres ON public.t FOR SELECT TO postgres, reader USING ((owner = 'postgres'::text));",
         #"CREATE POLICY postgres ON public.t FOR SELECT TO "admin", reader USING ((owner = 'postgres'::text));"#),
        ("CREATE USER MAPPING FOR postgres SERVER postgres OPTIONS (\"user\" 'postgres');",
         #"CREATE USER MAPPING FOR "admin" SERVER postgres OPTIONS ("user" 'postgres');"#),
        ("SET SESSION AUTHORIZATION 'postgres';", #"SET SESSION AUTHORIZATION "admin";"#),
        ("SET SESSION AUTHORIZATION postgres;", #"SET SESSION AUTHORIZATION "admin";"#),
        ("SET SESSION AUTHORIZATION DEFAULT;", "SET SESSION AUTHORIZATION DEFAULT;"),
        ("CREATE SCHEMA postgres AUTHORIZATION postgres;", #"CREATE SCHEMA postgres AUTHORIZATION "admin";"#),
        ("SET role = 'postgres'; COMMENT ON TABLE t IS 'OWNER TO postgres';", "SET role = 'postgres'; COMMENT ON TABLE t IS 'OWNER TO postgres';"),
        (#"COMMENT ON TABLE t IS E'it\'s OWNER TO postgres'; ALTER TABLE t OWNER TO postgres;"#,
         #"COMMENT ON TABLE t IS E'it\'s OWNER TO postgres'; ALTER TABLE t OWNER TO "admin";"#),
        ("-- Owner: postgres; ALTER TABLE t OWNER TO postgres;\n/* OWNER TO postgres /* nested */ OWNER TO postgres */ SELECT 1;",
         "-- Owner: postgres; ALTER TABLE t OWNER TO postgres;\n/* OWNER TO postgres /* nested */ OWNER TO postgres */ SELECT 1;"),
        ("CREATE FUNCTION f() RETURNS void AS $body$ ALTER TABLE t OWNER TO postgres; $x$ $body$ LANGUAGE sql; ALTER FUNCTION f() OWNER TO postgres;",
         #"CREATE FUNCTION f() RETURNS void AS $body$ ALTER TABLE t OWNER TO postgres; $x$ $body$ LANGUAGE sql; ALTER FUNCTION f() OWNER TO "admin";"#),
        ("CREATE FUNCTION g() RETURNS int AS $$ SELECT $1 $$ LANGUAGE sql; GRANT ALL ON FUNCTION g() TO postgres;",
         #"CREATE FUNCTION g() RETURNS int AS $$ SELECT $1 $$ LANGUAGE sql; GRANT ALL ON FUNCTION g() TO "admin";"#),
        ("COPY public.t (a, b) FROM stdin;\nALTER TABLE t OWNER TO postgres;\n\\.x\tOWNER TO postgres;\n\\.\nALTER TABLE t OWNER TO postgres;\n",
         "COPY public.t (a, b) FROM stdin;\nALTER TABLE t OWNER TO postgres;\n\\.x\tOWNER TO postgres;\n\\.\nALTER TABLE t OWNER TO \"admin\";\n"),
        ("COPY public.t FROM stdin;\r\nGRANT x TO postgres;\r\n\\.\r\nGRANT ALL ON t TO postgres;",
         "COPY public.t FROM stdin;\r\nGRANT x TO postgres;\r\n\\.\r\nGRANT ALL ON t TO \"admin\";"),
        ("\\restrict postgres\nALTER TABLE t OWNER TO postgres;\n\\unrestrict postgres\n",
         "\\restrict postgres\nALTER TABLE t OWNER TO \"admin\";\n\\unrestrict postgres\n"),
        ("ALTER TABLE t OWNER TO postgres", #"ALTER TABLE t OWNER TO "admin""#),
        ("ALTER TABLE t OWNER TO postgresx; ALTER TABLE t OWNER TO x_postgres;", "ALTER TABLE t OWNER TO postgresx; ALTER TABLE t OWNER TO x_postgres;"),
        // A table named owner (an unreserved word pg_dump leaves unquoted) before a role list.
        ("CREATE POLICY p ON public.owner TO a, postgres USING (true);", #"CREATE POLICY p ON public.owner TO a, "admin" USING (true);"#),
        ("GRANT SELECT ON TABLE public.owner TO postgres, b;", #"GRANT SELECT ON TABLE public.owner TO "admin", b;"#),
        (#"COMMENT ON TABLE t IS E'\! no'; -- \! no"#, #"COMMENT ON TABLE t IS E'\! no'; -- \! no"#),
        ("ALTER TABLE t OWNER TO \"postgres\"", #"ALTER TABLE t OWNER TO "admin""#),
    ]

    /// psql runs a backslash outside quotes as its own command: only pg_dump's `\restrict KEY` and
    /// `\unrestrict KEY` pass; anything else is held back whole and reported, however the input is cut.
    @Test(arguments: [
        "\\! touch /tmp/x\n", "SELECT 1 \\gexec\n", "\\restrict `touch /tmp/x`\n", "\\connect other\n",
        "\\restrict a b\n", "\\set ON_ERROR_STOP 0\n", "SELECT 'a' \\\\ \\! id\n", "\\!",
    ])
    func aPsqlCommandOtherThanRestrictIsHeldBack(_ line: String) {
        for size in [1, 3, 1000] {
            var renamer = RoleRenamer(map: Self.map)
            var out: [UInt8] = []
            let script = "SET x = 1;\n" + line + "SELECT 2;\n"
            CopyRowCounterTests.cut(Array(script.utf8), every: size) { renamer.rewrite($0, into: &out) }
            renamer.finish(into: &out)
            #expect(renamer.refused != nil, "\(line.debugDescription) cut every \(size)")
            #expect(!String(decoding: out, as: UTF8.self).contains("\\"), "nothing of the command is passed on")
        }
        var renamer = RoleRenamer(map: Self.map)
        var out: [UInt8] = []
        let own = "\\restrict Ab09\r\nCOPY t FROM stdin;\n\\! data\n\\.\n\\unrestrict Ab09\n"
        Array(own.utf8).withUnsafeBytes { renamer.rewrite($0, into: &out) }
        renamer.finish(into: &out)
        #expect(renamer.refused == nil && String(decoding: out, as: UTF8.self) == own, "pg_dump's own lines and COPY data pass")
    }

    @Test(arguments: cases.indices)
    func aRolePositionIsRenamedAndNothingElse(_ index: Int) {
        let (script, expected) = Self.cases[index]
        #expect(Self.rewrite(script).0 == expected)
    }

    /// However the stream is cut (every size from one byte), the result is the same as in one piece.
    @Test func cutAnywhereGivesTheSameScript() {
        let script = Self.cases.map(\.0).joined(separator: "\n")
        let (whole, renamed) = Self.rewrite(script)
        #expect(whole == Self.cases.map(\.1).joined(separator: "\n"))
        let admins = whole.components(separatedBy: "\"admin\"").count - 1
        #expect(admins > 20 && renamed == ["postgres": admins, "Mixed Case": 1], "\(renamed)")
        for size in 1...97 {
            #expect(Self.rewrite(script, every: size).0 == whole, "cut every \(size) bytes")
        }
    }

    /// A name longer than any role passes through untouched (and is never held whole).
    @Test func aVeryLongIdentifierPassesThrough() {
        let long = String(repeating: "p", count: 5000)
        let script = "ALTER TABLE t OWNER TO \"\(long)\"; ALTER TABLE t OWNER TO \(long); ALTER TABLE t OWNER TO postgres;"
        #expect(Self.rewrite(script, every: 7).0 == "ALTER TABLE t OWNER TO \"\(long)\"; ALTER TABLE t OWNER TO \(long); ALTER TABLE t OWNER TO \"admin\";")
    }
}
