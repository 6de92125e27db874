import Engine
import Foundation
@testable import Postgres
import Testing

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

    @Test func privilegedAttributesAreTakenOutOfPgDumpallLines() {
        #expect(GlobalsRestore.withoutPrivileges("ALTER ROLE su WITH SUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN REPLICATION BYPASSRLS;")
                == "ALTER ROLE su WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;")
        #expect(GlobalsRestore.withoutPrivileges(#"ALTER ROLE "SUPERUSER" WITH NOSUPERUSER LOGIN;"#) == #"ALTER ROLE "SUPERUSER" WITH NOSUPERUSER LOGIN;"#)
        #expect(GlobalsRestore.withoutPrivileges("CREATE ROLE su;") == "CREATE ROLE su;")
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

    /// A file the previous release wrote (format 1) still decodes, with its pg_dumpall lines and grants.
    @Test func version1FilesDecode() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(Paths.root)/Tests/Fixtures/globals-v1.json")))
        let globals = try DatabaseGlobals.decode(bytes)
        #expect(globals.version == 1 && globals.owner == "v1_own" && globals.acl == nil)
        #expect(globals.roles.map(\.name) == ["v1_own", "v1_reader", "v1_su"])
        #expect(globals.roles[2].sql?.last?.contains("WITH SUPERUSER") == true)
        #expect(globals.grants == [DatabaseGlobals.AclEntry(grantee: "v1_reader", grantor: nil, privilege: "CONNECT", grantable: false)])
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
