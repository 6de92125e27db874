import Engine
import Foundation
@testable import Postgres
import Testing
import TestSupport

/// The globals file's formats and the pieces of a restore that need no server.
@Suite struct DatabaseGlobalsTests {
    /// Flattened lists as the server stores them (`search_path`'s `"$user", public`), split as pg_dumpall does.
    @Test(arguments: [
        (#""$user", public, extra"#, [#"$user"#, "public", "extra"] as [String]?),
        ("a,b", ["a", "b"]),
        (#""a""b", "c d" ,e"#, [#"a"b"#, "c d", "e"]),
        (#""""#, [""]),
        ("  ", []),
        (#""unterminated"#, nil),
        ("a b", nil),
        ("a,,b", nil),
    ])
    func splitsFlattenedLists(text: String, expected: [String]?) {
        #expect(StoredSetting.splitList(text) == expected)
    }

    @Test func onlyQuotedListSettingsAreSplit() throws {
        let path = try #require(StoredSetting(#"search_path="$user", public, "My Schema""#))
        #expect(path.values == ["$user", "public", "My Schema"])
        #expect(path.setClause.template == "SET %I TO %L, %L, %L")
        let style = try #require(StoredSetting("DateStyle=ISO, MDY"))
        #expect(style.name == "DateStyle" && style.values == ["ISO, MDY"])
        #expect(try #require(StoredSetting("work_mem=8MB")).values == ["8MB"])
        #expect(StoredSetting("no equals sign") == nil)
    }

    @Test func createRoleAttributesLeaveOutPrivilegesUnlessAllowed() {
        var role = DatabaseGlobals.Role(name: "r")
        role.superuser = true
        role.login = true
        role.bypassrls = true
        role.connectionLimit = 4
        #expect(GlobalsRestore.attributes(role, privileged: false)
                == ["NOSUPERUSER", "INHERIT", "NOCREATEROLE", "NOCREATEDB", "LOGIN", "NOREPLICATION", "NOBYPASSRLS", "CONNECTION LIMIT 4"])
        #expect(GlobalsRestore.attributes(role, privileged: true).prefix(1) == ["SUPERUSER"])
        #expect(role.privilegedAttributes == ["SUPERUSER", "BYPASSRLS"])
    }

    /// A file the previous release wrote (format 1) still decodes: its pg_dumpall lines read into the
    /// attributes, comment and settings format 2 records, none kept as text.
    @Test func version1FilesDecodeIntoData() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(Paths.root)/Tests/Fixtures/globals-v1.json")))
        let globals = try DatabaseGlobals.decode(bytes)
        #expect(globals.version == 1 && globals.owner == "v1_own" && globals.acl == nil)
        #expect(globals.roles.map(\.name) == ["v1_own", "v1_reader", "v1_su"])
        #expect(globals.roles.allSatisfy { $0.sql == nil })
        let su = globals.roles[2]
        #expect(su.superuser && su.login && su.replication && su.bypassrls && su.inherit && !su.createdb && !su.createrole)
        #expect(!globals.roles[0].superuser && !globals.roles[0].login)
        #expect(globals.roles[1].comment == "reads")
        #expect(globals.grants == [DatabaseGlobals.AclEntry(grantee: "v1_reader", grantor: nil, privilege: "CONNECT", grantable: false)])
    }

    /// Every shape pg_dumpall writes for a role, read as data.
    @Test func version1LinesOfEveryShape() throws {
        var role = DatabaseGlobals.Role(name: "Odd \"Name\"")
        role.sql = [
            #"CREATE ROLE "Odd ""Name""";"#,
            #"ALTER ROLE "Odd ""Name""" WITH NOSUPERUSER NOINHERIT CREATEROLE CREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5 VALID UNTIL '2030-01-01 00:00:00+00';"#,
            #"COMMENT ON ROLE "Odd ""Name""" IS 'it''s; DROP';"#,
            #"ALTER ROLE "Odd ""Name""" SET search_path TO '$user', 'my "schema"';"#,
            #"ALTER ROLE "Odd ""Name""" SET work_mem TO '8MB';"#,
        ]
        try role.readVersionOneLines()
        #expect(role.sql == nil && !role.inherit && role.createrole && role.createdb && role.login && !role.superuser)
        #expect(role.connectionLimit == 5 && role.validUntil == "2030-01-01 00:00:00+00" && role.comment == "it's; DROP")
        #expect(role.settings == [#"search_path="$user", "my ""schema""""#, "work_mem=8MB"])
        let path = try #require(StoredSetting(role.settings[0]))
        #expect(path.values == ["$user", #"my "schema""#])
    }

    /// What a planted file may say instead is refused as a whole, naming the role and the line.
    @Test(arguments: [
        "DROP DATABASE app_victim;",
        "alter role evil with superuser login;",
        "ALTER ROLE evil WITH\tSUPERUSER;",
        "CREATE ROLE evil; DROP DATABASE app_victim;",
        "ALTER ROLE evil WITH SUPERUSER PASSWORD 'x';",
        "GRANT pg_read_server_files TO evil;",
        "ALTER ROLE evil SET search_path TO public;",
        "COMMENT ON ROLE evil IS E'\\x41';",
        "ALTER ROLE evil WITH LOGIN",
        "CREATE ROLE evil;;",
    ])
    func version1LinesOfOtherShapesAreRefused(line: String) throws {
        var role = DatabaseGlobals.Role(name: "evil")
        role.sql = ["CREATE ROLE evil;", line]
        #expect(throws: DatabaseGlobals.Role.LineError.self) { try role.readVersionOneLines() }
        let file = #"{"database":"d","owner":"evil","encoding":"UTF8","collate":"C","ctype":"C","settings":[],"roles":[{"name":"evil","sql":"#
            + String(decoding: try JSONEncoder().encode(["CREATE ROLE evil;", line]), as: UTF8.self) + "}]}"
        #expect(throws: (any Error).self) { try DatabaseGlobals.decode(Array(file.utf8)) }
    }

    /// pg_dumpall writes a text with a backslash as an E'' string with the backslash doubled; a line for
    /// another role (filed under this one by the earlier writer) is left out, not applied.
    @Test func escapedStringsAndOtherRolesLinesAreRead() throws {
        var role = DatabaseGlobals.Role(name: "bob")
        role.sql = [
            "CREATE ROLE bob;",
            #"COMMENT ON ROLE bob IS E'C:\\temp\\bob''s';"#,
            #"ALTER ROLE bob SET search_path TO E'a\\b', 'c';"#,
            "ALTER ROLE alice WITH SUPERUSER;",
            "COMMENT ON ROLE alice IS 'not ROLE bob here';",
        ]
        try role.readVersionOneLines()
        #expect(role.comment == #"C:\temp\bob's"# && !role.superuser)
        #expect(try #require(StoredSetting(role.settings[0])).values == [#"a\b"#, "c"])
        var other = DatabaseGlobals.Role(name: "bob")
        other.sql = [#"COMMENT ON ROLE bob IS E'\x41';"#]
        #expect(throws: DatabaseGlobals.Role.LineError.self) { try other.readVersionOneLines() }
    }

    /// PostgreSQL's predefined roles are never recorded, so a file naming one is refused.
    @Test func predefinedRolesAreRefused() throws {
        let file = #"{"database":"d","owner":"o","encoding":"UTF8","collate":"C","ctype":"C","settings":[],"roles":[],"#
            + #""memberships":[{"role":"pg_execute_server_program","member":"o","admin_option":false}]}"#
        #expect(throws: (any Error).self) { try DatabaseGlobals.decode(Array(file.utf8)) }
    }

    /// A grant's privilege is one of the three a database has, never text spliced into SQL.
    @Test func grantsOfOtherPrivilegesAreRefused() throws {
        let file = #"{"database":"d","owner":"o","encoding":"UTF8","collate":"C","ctype":"C","settings":[],"roles":[],"#
            + #""grants":[{"grantee":"x","privilege":"CONNECT ON DATABASE postgres TO x; DROP DATABASE v; --","grantable":false}]}"#
        #expect(throws: (any Error).self) { try DatabaseGlobals.decode(Array(file.utf8)) }
        let fine = file.replacingOccurrences(of: "CONNECT ON DATABASE postgres TO x; DROP DATABASE v; --", with: "TEMPORARY")
        #expect(try DatabaseGlobals.decode(Array(fine.utf8)).grants?.first?.privilege == "TEMPORARY")
    }

    @Test func version2RoundTripsThroughItsJSON() throws {
        var role = DatabaseGlobals.Role(name: "owner")
        role.settings = ["work_mem=4MB"]
        let globals = DatabaseGlobals(
            formatVersion: 2, database: "app", owner: "owner", encoding: "UTF8", collate: "C", ctype: "C",
            localeProvider: "icu", icuLocale: "de-DE", tablespace: "pg_default", objectTablespaces: [],
            connectionLimit: 7, allowConnections: true, isTemplate: false, comment: "c", settings: ["search_path=a, b"],
            acl: [.init(grantee: "PUBLIC", grantor: "owner", privilege: "CONNECT", grantable: false)], roles: [role],
            memberships: [.init(role: "owner", member: "m", grantor: "postgres", adminOption: true)],
            roleSettings: [.init(role: "owner", settings: ["work_mem=1MB"])])
        let text = String(decoding: try globals.encoded(), as: UTF8.self)
        #expect(text.contains(#""format_version" : 2"#) && text.contains(#""icu_locale" : "de-DE""#))
        #expect(try DatabaseGlobals.decode(try globals.encoded()) == globals)
    }
}
