import Engine
import Foundation
@testable import Postgres
import Testing

/// A whole-server run's roles document is read as data, and refused whole when a field is not what this
/// tool writes; a database's sidecar never carries a password.
@Suite struct ServerGlobalsTests {
    /// A verifier of the shape the server stores: a 16-byte salt and two 32-byte keys.
    static let scram = "SCRAM-SHA-256$4096:" + Data(repeating: 7, count: 16).base64EncodedString() + "$"
        + Data(repeating: 1, count: 32).base64EncodedString() + ":" + Data(repeating: 2, count: 32).base64EncodedString()

    /// A document as the server's query writes it, with `change` applied to its JSON.
    static func document(_ change: (inout [String: Any]) -> Void = { _ in }) throws -> [UInt8] {
        var json: [String: Any] = [
            "format_version": 1, "server_version": "15.18", "databases": ["app", "my db"],
            "roles": [
                ["name": "app", "login": true, "password": Self.scram],
                ["name": "reader", "password": "md5" + String(repeating: "0f", count: 16)],
                ["name": "plain"],
            ],
            "memberships": [
                ["role": "reader", "member": "app", "grantor": "postgres", "admin_option": false],
                ["role": "pg_read_all_data", "member": "reader", "admin_option": false],
            ],
            "tablespaces": [["name": "fast", "owner": "app", "location": "/mnt/fast", "options": []]],
        ]
        change(&json)
        return Array(try JSONSerialization.data(withJSONObject: json))
    }

    @Test func aDocumentAsWrittenReads() throws {
        let globals = try ServerGlobals.decode(try Self.document())
        #expect(globals.roles.map(\.name) == ["app", "reader", "plain"])
        #expect(globals.roles[0].password == Self.scram && globals.roles[2].password == nil)
        #expect(globals.databases == ["app", "my db"])
        // Memberships in predefined roles are kept for the server's own restore, not given to the roles' creation.
        #expect(globals.roleGlobals.memberships?.map(\.role) == ["reader"])
        #expect(try ServerGlobals.decode(try globals.encoded()) == globals)
    }

    @Test func aDocumentNotAsWrittenIsRefused() throws {
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("format version 2", { $0["format_version"] = 2 }),
            ("not a SCRAM-SHA-256", { $0["roles"] = [["name": "app", "password": "secret"]] }),
            ("not a SCRAM-SHA-256", { $0["roles"] = [["name": "app", "password": "md5'; DROP ROLE x; --"]] }),
            ("not a SCRAM-SHA-256", { $0["roles"] = [["name": "app", "password": "md5" + String(repeating: "a", count: 32) + "\n"]] }),
            ("not a SCRAM-SHA-256", { $0["roles"] = [["name": "app", "password": "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy"]] }),
            ("not a SCRAM-SHA-256", { $0["roles"] = [["name": "app", "password": Self.scram + "\n"]] }),
            ("predefined role pg_monitor", { $0["roles"] = [["name": "pg_monitor"]] }),
            ("as SQL lines", { $0["roles"] = [["name": "app", "sql": ["CREATE ROLE app;"]]] }),
            ("cannot have", { $0["roles"] = [["name": String(repeating: "x", count: 64)]] }),
            ("cannot have", { $0["databases"] = ["a\u{0}b"] }),
            ("recorded twice", { $0["roles"] = [["name": "app"], ["name": "app"]] }),
            ("does not record", { $0["memberships"] = [["role": "ghost", "member": "app", "admin_option": false]] }),
        ]
        for (reason, change) in cases {
            let bytes = try Self.document(change)
            #expect { try ServerGlobals.decode(bytes) } throws: { "\($0)".contains(reason) }
        }
    }

    @Test func aDatabaseSidecarWithAPasswordIsRefused() throws {
        var globals = DatabaseGlobals(formatVersion: 2, database: "app", owner: "app", encoding: "UTF8", collate: "C",
                                      ctype: "C", settings: [], roles: [DatabaseGlobals.Role(name: "app")])
        #expect(try DatabaseGlobals.decode(try globals.encoded()) == globals)
        globals.roles[0].password = "md5" + String(repeating: "a", count: 32)
        #expect { try DatabaseGlobals.decode(try globals.encoded()) } throws: { "\($0)".contains("never writes there") }
    }
}
