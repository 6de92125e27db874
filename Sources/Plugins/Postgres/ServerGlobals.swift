import Engine
import Foundation

/// A whole-server job's own backup: what a server holds outside its databases, as data. Every role (its
/// attributes, comment, settings and, only with `postgres.role_passwords = include`, its password hash),
/// every membership with its options, every tablespace (name, owner, the source's location, options), and
/// the databases the run found. Stored as the backup's payload, so it is compressed and encrypted like a
/// dump (a password hash is a secret) and hashed in the manifest.
///
/// A restore reads it into data and checks every field against what this tool writes; nothing in it is
/// run as SQL. Format versions: 1.
struct ServerGlobals: Codable, Equatable {
    static let currentVersion = 1
    /// The manifest's `format` of a backup holding this document.
    static let format = "server-globals"
    /// The most a stored document may be: far beyond the roles of any real server, but a bound.
    static let maximumBytes = 64 << 20

    struct Tablespace: Codable, Equatable {
        var name: String
        var owner: String
        /// Where it is on the source's disk; a restore never creates it there, the target provides its own.
        var location: String
        var options: [String]
        var comment: String?
    }

    var formatVersion: Int
    var serverVersion: String
    /// The databases the run backed up (the job's patterns applied), in order.
    var databases: [String]
    /// Every role but PostgreSQL's predefined ones (`pg_*`).
    var roles: [DatabaseGlobals.Role]
    /// Every membership between those roles, and theirs in predefined roles.
    var memberships: [DatabaseGlobals.Membership]
    var tablespaces: [Tablespace]

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Reads a stored document into data, refusing it whole when a field is not what this tool writes: an
    /// unknown version, a name PostgreSQL cannot have, a predefined role recorded as a role, a password that
    /// is not a SCRAM or MD5 hash, a membership naming a role the document does not have.
    static func decode(_ bytes: [UInt8]) throws -> ServerGlobals {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let globals = try decoder.decode(ServerGlobals.self, from: Data(bytes))
        guard globals.formatVersion >= 1, globals.formatVersion <= currentVersion else {
            throw refusal("format version \(globals.formatVersion), which this release does not read "
                + "(it reads up to \(currentVersion)); upgrade backup")
        }
        let names = Set(globals.roles.map(\.name))
        for name in globals.roles.map(\.name) + globals.databases + globals.tablespaces.flatMap({ [$0.name, $0.owner] })
        where !isName(name) {
            throw refusal("the name \(name.debugDescription.prefix(80)), which PostgreSQL cannot have")
        }
        guard names.count == globals.roles.count else { throw refusal("a role recorded twice") }
        for role in globals.roles {
            if role.name.hasPrefix("pg_") { throw refusal("the predefined role \(role.name) recorded as a role") }
            if role.sql != nil { throw refusal("role \(role.name) as SQL lines, which this document never holds") }
            if let password = role.password, !isPasswordHash(password) {
                throw refusal("a password for role \(role.name) that is not a SCRAM-SHA-256 or MD5 hash")
            }
        }
        for membership in globals.memberships {
            let predefined = membership.role.hasPrefix("pg_") && isName(membership.role)
            guard predefined || names.contains(membership.role), names.contains(membership.member),
                  membership.grantor.map({ isName($0) }) ?? true else {
                throw refusal("a membership of \(membership.member.debugDescription.prefix(64)) in "
                    + "\(membership.role.debugDescription.prefix(64)) naming a role it does not record")
            }
        }
        return globals
    }

    private static func refusal(_ what: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the server's roles document has \(what)"))
    }

    /// A name PostgreSQL can have: 1 to 63 bytes, no NUL.
    static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 63 && !name.utf8.contains(0)
    }

    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (the salt and the two 32-byte keys in
    /// base64) or `md5` and 32 hex digits: the forms `rolpassword` holds besides plain text, which the server
    /// would take a malformed verifier for (and hash it as a password).
    static func isPasswordHash(_ text: String) -> Bool {
        let hex = Set("0123456789abcdef")
        if text.hasPrefix("md5") { return text.count == 35 && text.dropFirst(3).allSatisfy(hex.contains) }
        guard text.hasPrefix("SCRAM-SHA-256$") else { return false }
        let parts = text.dropFirst("SCRAM-SHA-256$".count).split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let salted = parts[0].split(separator: ":", omittingEmptySubsequences: false)
        let keys = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        func bytes(_ part: Substring) -> Int? { Data(base64Encoded: String(part)).map(\.count) }
        guard salted.count == 2, keys.count == 2, (1...9).contains(salted[0].count),
              salted[0].allSatisfy({ $0.isASCII && $0.isNumber }), (bytes(salted[1]) ?? 0) > 0 else { return false }
        return bytes(keys[0]) == 32 && bytes(keys[1]) == 32
    }

    /// The roles and memberships in the shape a database's restore creates roles from
    /// (``GlobalsRestore``), without memberships in predefined roles, which the server's restore grants
    /// on its own terms.
    var roleGlobals: DatabaseGlobals {
        DatabaseGlobals(formatVersion: DatabaseGlobals.currentVersion, database: "", owner: "", encoding: "",
                        collate: "", ctype: "", settings: [], roles: roles,
                        memberships: memberships.filter { !$0.role.hasPrefix("pg_") })
    }
}
