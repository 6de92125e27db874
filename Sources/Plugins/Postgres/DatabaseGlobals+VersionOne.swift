import Foundation

/// Version 1 globals kept each role as `pg_dumpall --roles-only` lines. They are never run as text: each
/// line must have one of the shapes pg_dumpall writes for the role it is filed under, and is read into the
/// same attributes version 2 records, which a restore then applies like any other (privileged ones only
/// with `--allow-privileged-roles`). A line of any other shape refuses the whole file.
extension DatabaseGlobals.Role {
    struct LineError: Error, CustomStringConvertible {
        var role: String
        var line: String
        var reason: String
        var description: String {
            "role \(role.debugDescription.prefix(80))'s line \(line.debugDescription.prefix(160)) \(reason);"
                + " only pg_dumpall's CREATE ROLE, ALTER ROLE … WITH, ALTER ROLE … SET and COMMENT ON ROLE lines"
                + " for that role are read"
        }
    }

    /// The attributes, comment and settings of a version 1 role's lines; `sql` is cleared.
    mutating func readVersionOneLines() throws {
        guard let lines = sql else { return }
        for line in lines {
            let tokens: [RoleLineToken]
            do {
                tokens = try RoleLineToken.scan(line)
            } catch {
                throw LineError(role: name, line: line, reason: "cannot be read (\(error))")
            }
            do {
                try apply(tokens)
            } catch where error.otherRole {
                // The earlier writer filed a line under every role whose name it mentioned (`COMMENT ON ROLE
                // bob IS '… ROLE alice …'`): it belongs to another role and is left out.
                continue
            } catch {
                throw LineError(role: name, line: line, reason: error.text)
            }
        }
        sql = nil
    }

    private mutating func apply(_ tokens: [RoleLineToken]) throws(LineReason) {
        var rest = tokens[...]
        guard rest.popLast() == .semicolon else { throw LineReason("does not end with ';'") }
        func take(_ words: String...) throws(LineReason) {
            for word in words {
                guard rest.popFirst() == .word(word) else { throw LineReason("is not of a known shape") }
            }
        }
        func takeRole() throws(LineReason) {
            guard let token = rest.popFirst(), let role = token.identifier else { throw LineReason("names no role") }
            guard role == name else { throw LineReason("names another role", otherRole: true) }
        }
        switch rest.first {
        case .word("CREATE"):
            try take("CREATE", "ROLE"); try takeRole()
        case .word("COMMENT"):
            try take("COMMENT", "ON", "ROLE"); try takeRole(); try take("IS")
            guard case .literal(let text)? = rest.popFirst() else { throw LineReason("has no comment literal") }
            comment = text
        case .word("ALTER"):
            try take("ALTER", "ROLE"); try takeRole()
            switch rest.popFirst() {
            case .word("WITH"): try applyAttributes(&rest)
            case .word("SET"): try applySetting(&rest)
            default: throw LineReason("is not of a known shape")
            }
        default:
            throw LineReason("is not of a known shape")
        }
        guard rest.isEmpty else { throw LineReason("has more than its shape allows") }
    }

    private mutating func applyAttributes(_ rest: inout ArraySlice<RoleLineToken>) throws(LineReason) {
        while let token = rest.popFirst() {
            guard case .word(let word) = token else { throw LineReason("has an attribute that is not a word") }
            let on = !word.hasPrefix("NO")
            switch on ? word : String(word.dropFirst(2)) {
            case "SUPERUSER": superuser = on
            case "INHERIT": inherit = on
            case "CREATEROLE": createrole = on
            case "CREATEDB": createdb = on
            case "LOGIN": login = on
            case "REPLICATION": replication = on
            case "BYPASSRLS": bypassrls = on
            case "CONNECTION" where on:
                guard rest.popFirst() == .word("LIMIT"), case .integer(let limit)? = rest.popFirst() else {
                    throw LineReason("has a malformed CONNECTION LIMIT")
                }
                connectionLimit = limit
            case "VALID" where on:
                guard rest.popFirst() == .word("UNTIL"), case .literal(let until)? = rest.popFirst() else {
                    throw LineReason("has a malformed VALID UNTIL")
                }
                validUntil = until
            default:
                throw LineReason("has an attribute \(word.prefix(40)) that pg_dumpall does not write")
            }
        }
    }

    /// `SET name TO 'v1'[, 'v2'…]`: stored as the server stores it, `name=value`, a list's items quoted.
    private mutating func applySetting(_ rest: inout ArraySlice<RoleLineToken>) throws(LineReason) {
        guard let setting = rest.popFirst()?.identifier, rest.popFirst() == .word("TO") else {
            throw LineReason("has a malformed SET")
        }
        var values: [String] = []
        while true {
            guard case .literal(let value)? = rest.popFirst() else {
                throw LineReason("has a SET value that is not a literal")
            }
            values.append(value)
            guard rest.first == .comma else { break }
            rest.removeFirst()
        }
        if StoredSetting.quotedLists.contains(setting.lowercased()) {
            let items = values.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            settings.append(setting + "=" + items.joined(separator: ", "))
        } else {
            guard values.count == 1 else {
                throw LineReason("sets several values for \(setting.prefix(40)), which is not a list")
            }
            settings.append(setting + "=" + values[0])
        }
    }
}
