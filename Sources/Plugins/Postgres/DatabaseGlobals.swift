import Engine
import Foundation

/// What a dump of one database leaves out but a restore onto another server needs: the roles the database
/// uses, their memberships and settings, and the database's own properties (owner, encoding, locale,
/// limits, comment, settings and its exact ACL). Stored beside the backup as `<backup>.globals.json`.
///
/// Format versions: 1 (no `format_version` key) kept each role as `pg_dumpall` lines and the database's
/// grants without grantors; 2 records every fact as data, read in the dump's snapshot. Both restore.
struct DatabaseGlobals: Codable, Equatable {
    static let currentVersion = 2

    /// One role as `pg_roles` describes it (version 2), or as `pg_dumpall` lines (version 1: `sql`).
    struct Role: Codable, Equatable {
        var name: String
        var sql: [String]?
        var superuser = false
        var inherit = true
        var createrole = false
        var createdb = false
        var login = false
        var replication = false
        var bypassrls = false
        var connectionLimit = -1
        var validUntil: String?
        var comment: String?
        /// `name=value` items of `ALTER ROLE … SET`, as the server stores them.
        var settings: [String] = []
        /// The role's password hash: only in a server's roles document (``ServerGlobals``) and only with
        /// `postgres.role_passwords = include`; a database's sidecar never has one.
        var password: String?

        init(name: String) { self.name = name }

        /// Version 1 files have only `name` and `sql`; a missing attribute keeps its default.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            sql = try c.decodeIfPresent([String].self, forKey: .sql)
            superuser = try c.decodeIfPresent(Bool.self, forKey: .superuser) ?? false
            inherit = try c.decodeIfPresent(Bool.self, forKey: .inherit) ?? true
            createrole = try c.decodeIfPresent(Bool.self, forKey: .createrole) ?? false
            createdb = try c.decodeIfPresent(Bool.self, forKey: .createdb) ?? false
            login = try c.decodeIfPresent(Bool.self, forKey: .login) ?? false
            replication = try c.decodeIfPresent(Bool.self, forKey: .replication) ?? false
            bypassrls = try c.decodeIfPresent(Bool.self, forKey: .bypassrls) ?? false
            connectionLimit = try c.decodeIfPresent(Int.self, forKey: .connectionLimit) ?? -1
            validUntil = try c.decodeIfPresent(String.self, forKey: .validUntil)
            comment = try c.decodeIfPresent(String.self, forKey: .comment)
            settings = try c.decodeIfPresent([String].self, forKey: .settings) ?? []
            password = try c.decodeIfPresent(String.self, forKey: .password)
        }

        /// The attributes only a superuser can give and that reach beyond one database.
        var privilegedAttributes: [String] {
            [superuser ? "SUPERUSER" : nil, replication ? "REPLICATION" : nil, bypassrls ? "BYPASSRLS" : nil]
                .compactMap { $0 }
        }
    }

    /// `GRANT role TO member`; the options PostgreSQL 16 added are nil when the source predates them.
    struct Membership: Codable, Equatable {
        var role: String
        var member: String
        var grantor: String?
        var adminOption: Bool
        var inheritOption: Bool?
        var setOption: Bool?
    }

    /// One privilege of one `aclitem`; `grantee` is `PUBLIC` for the public pseudo-role.
    struct AclEntry: Codable, Equatable {
        var grantee: String
        var grantor: String?
        var privilege: String
        var grantable: Bool
    }

    /// `ALTER ROLE role IN DATABASE … SET` items.
    struct RoleSetting: Codable, Equatable {
        var role: String
        var settings: [String]
    }

    var formatVersion: Int?
    var database: String
    var owner: String
    var encoding: String
    var collate: String
    var ctype: String
    /// `libc`, `icu` or `builtin`; nil in version 1 (libc).
    var localeProvider: String?
    var icuLocale: String?
    var icuRules: String?
    var builtinLocale: String?
    /// The database's default tablespace, and the other tablespaces its objects live in.
    var tablespace: String?
    var objectTablespaces: [String]?
    var connectionLimit: Int?
    var allowConnections: Bool?
    var isTemplate: Bool?
    var comment: String?
    /// `name=value` items of `ALTER DATABASE … SET`, as the server stores them.
    var settings: [String]
    /// Version 2: the database's ACL entry by entry; nil when it is the default (no `GRANT` or `REVOKE`).
    var acl: [AclEntry]?
    /// Version 1 only: grants to roles other than the owner.
    var grants: [AclEntry]?
    var roles: [Role]
    var memberships: [Membership]?
    var roleSettings: [RoleSetting]?

    static let suffix = ".globals.json"

    var version: Int { formatVersion ?? 1 }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return Array(try encoder.encode(self))
    }

    /// The privileges a database's ACL can hold; anything else in a file is refused, never spliced.
    static let databasePrivileges: Set<String> = ["CREATE", "TEMPORARY", "CONNECT"]

    /// Reads a stored file into data only: version 1's role lines are parsed (never run), and a privilege
    /// outside `databasePrivileges` refuses the file.
    static func decode(_ bytes: [UInt8]) throws -> DatabaseGlobals {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var globals = try decoder.decode(DatabaseGlobals.self, from: Data(bytes))
        for index in globals.roles.indices { try globals.roles[index].readVersionOneLines() }
        for entry in (globals.acl ?? []) + (globals.grants ?? []) where !databasePrivileges.contains(entry.privilege) {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription:
                "a database privilege \(entry.privilege.debugDescription.prefix(40)) that PostgreSQL does not have"))
        }
        // PostgreSQL's predefined roles (pg_read_server_files, …) are never recorded: a restore that
        // created, joined or granted them would hand out what the source's database did not have.
        let named = globals.roles.map(\.name) + (globals.memberships ?? []).flatMap { [$0.role, $0.member] }
            + (globals.roleSettings ?? []).map(\.role) + [globals.owner]
        if let role = globals.roles.first(where: { $0.password != nil }) {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription:
                "a password for role \(role.name.debugDescription.prefix(64)), which this tool never writes there"))
        }
        if let predefined = named.first(where: { $0.hasPrefix("pg_") }) {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription:
                "the predefined role \(predefined.debugDescription.prefix(64)), which this tool never records"))
        }
        return globals
    }
}
