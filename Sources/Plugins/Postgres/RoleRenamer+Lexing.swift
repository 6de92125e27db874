import Foundation

/// The parts of a psql script the renamer passes over: psql's own commands, strings, comments, dollar
/// quotes and COPY data, and the names it reads.
extension RoleRenamer {
    /// psql runs a backslash outside quotes as one of its own commands, whatever follows: only the two
    /// pg_dump writes, with a key of letters and digits, are passed on.
    mutating func endCommand(into out: inout [UInt8]) {
        state = .code
        defer { held.removeAll(keepingCapacity: true) }
        var line = held
        if line.last == 0x0D { line.removeLast() }
        let text = String(decoding: line, as: UTF8.self)
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        let allowed = words.count == 2 && (words[0] == "\\restrict" || words[0] == "\\unrestrict")
            && !words[1].isEmpty && words[1].utf8.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
            }
        guard allowed, refused == nil else {
            refused = refused ?? String(text.prefix(40))
            return
        }
        out += held
    }

    // MARK: Strings, comments, dollar quotes, COPY data

    mutating func startString(escapes: Bool, into out: inout [UInt8]) {
        escapeString = escapes
        backslash = false
        holdingString = statement.stringMayBeRole && !escapes
        heldOverflow = false
        if holdingString { startHolding(0x27) } else { out.append(0x27) }
        state = .string
    }

    mutating func string(_ byte: UInt8, into out: inout [UInt8]) {
        if backslash {
            backslash = false
        } else if byte == 0x5C && escapeString {
            backslash = true
        } else if byte == 0x27 {
            emitString(byte, into: &out)
            state = .stringQuote
            return
        }
        emitString(byte, into: &out)
    }

    mutating func emitString(_ byte: UInt8, into out: inout [UInt8]) {
        if holdingString { hold(byte, into: &out) } else { out.append(byte) }
    }

    mutating func endString(into out: inout [UInt8]) {
        state = .code
        guard holdingString else { statement.note(.other); return }
        holdingString = false
        defer { held.removeAll(keepingCapacity: true) }
        guard !heldOverflow else { statement.note(.other); return }
        // 'name' with '' for a quote, as pg_restore writes SET SESSION AUTHORIZATION.
        let text = String(decoding: held.dropFirst().dropLast(), as: UTF8.self)
            .replacingOccurrences(of: "''", with: "'")
        emit(statement.note(.string(text)), original: held, into: &out)
    }

    mutating func blockComment(_ byte: UInt8, into out: inout [UInt8]) {
        out.append(byte)
        if commentLast == 0x2A && byte == 0x2F {
            commentDepth -= 1
            commentLast = 0
            if commentDepth == 0 { state = .code }
        } else if commentLast == 0x2F && byte == 0x2A {
            commentDepth += 1
            commentLast = 0
        } else {
            commentLast = byte
        }
    }

    mutating func dollarTag(_ byte: UInt8, into out: inout [UInt8]) -> Bool {
        if byte == 0x24 {
            out.append(byte)
            tag.append(byte)
            tagMatched = 0
            state = .dollarBody
            return true
        }
        // `$1` (a parameter) or `$` in an operator: not a dollar quote after all.
        let first = tag.count == 1
        if Self.isWordByte(byte) && byte != 0x24 && !(first && (0x30...0x39).contains(byte)) {
            out.append(byte)
            tag.append(byte)
            return true
        }
        statement.note(.other)
        state = .code
        return false
    }

    mutating func dollarBody(_ byte: UInt8, into out: inout [UInt8]) {
        out.append(byte)
        if byte == tag[tagMatched] {
            tagMatched += 1
            if tagMatched == tag.count {
                statement.note(.other)
                state = .code
            }
        } else {
            // The tag holds no `$`, so a closing delimiter can only start again here.
            tagMatched = byte == 0x24 ? 1 : 0
        }
    }

    mutating func copyData(_ byte: UInt8, into out: inout [UInt8]) {
        out.append(byte)
        switch (copyLine, byte) {
        case (2, 0x0A), (3, 0x0A): state = .code
        case (_, 0x0A): copyLine = 0
        case (0, 0x5C): copyLine = 1
        case (1, 0x2E): copyLine = 2
        case (2, 0x0D): copyLine = 3
        default: copyLine = -1
        }
    }

    // MARK: Names

    /// Bytes that continue an unquoted identifier (and, but for `$` and digits, start one).
    static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x5F, 0x24, 0x80...0xFF: true
        default: false
        }
    }

    /// The name a `"…"` identifier stands for.
    static func unquoted(_ token: [UInt8]) -> String {
        String(decoding: token.dropFirst().dropLast(), as: UTF8.self).replacingOccurrences(of: "\"\"", with: "\"")
    }
}
