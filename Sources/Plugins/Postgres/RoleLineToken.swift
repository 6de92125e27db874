/// A token of a pg_dumpall role line: an upper- or lower-case word, a quoted identifier, a standard string
/// literal, an integer, a comma or the closing semicolon.
enum RoleLineToken: Equatable {
    case word(String)
    case quoted(String)
    case literal(String)
    case integer(Int)
    case comma
    case semicolon

    /// The name an identifier token stands for: a bare word as written (pg_dumpall leaves only lower-case
    /// names bare), a quoted one without its quotes.
    var identifier: String? {
        switch self {
        case .word(let text), .quoted(let text): return text
        default: return nil
        }
    }

    struct ScanError: Error, CustomStringConvertible {
        var description: String
    }

    /// The text of an E'' string whose only escape is `\\`; nil for any other backslash escape.
    static func unescape(_ raw: String) -> String? {
        var text = ""
        var escaped = false
        for character in raw {
            if escaped {
                guard character == "\\" else { return nil }
                text.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                text.append(character)
            }
        }
        return escaped ? nil : text
    }

    static func scan(_ line: String) throws(ScanError) -> [RoleLineToken] {
        let chars = Array(line.unicodeScalars)
        var tokens: [RoleLineToken] = []
        var i = 0
        func quoted(_ mark: Unicode.Scalar) throws(ScanError) -> String {
            var text = String.UnicodeScalarView()
            i += 1
            while true {
                guard i < chars.count else { throw ScanError(description: "an unclosed \(mark)") }
                if chars[i] == mark {
                    if i + 1 < chars.count, chars[i + 1] == mark { text.append(mark); i += 2; continue }
                    i += 1
                    return String(text)
                }
                text.append(chars[i])
                i += 1
            }
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case " ":
                i += 1
            case ",": tokens.append(.comma); i += 1
            case ";": tokens.append(.semicolon); i += 1
            case "\"": tokens.append(.quoted(try quoted("\"")))
            case "'": tokens.append(.literal(try quoted("'")))
            case "-", "0"..."9":
                var digits = String(c)
                i += 1
                while i < chars.count, ("0"..."9").contains(chars[i]) { digits.unicodeScalars.append(chars[i]); i += 1 }
                guard let value = Int(digits) else { throw ScanError(description: "a malformed number") }
                tokens.append(.integer(value))
            case "E" where i + 1 < chars.count && chars[i + 1] == "'",
                 "e" where i + 1 < chars.count && chars[i + 1] == "'":
                // pg_dumpall writes a text with a backslash as E'…', the backslash doubled; no other escape.
                i += 1
                let raw = try quoted("'")
                guard let text = Self.unescape(raw) else {
                    throw ScanError(description: "an escape other than \\\\ in an E'' string")
                }
                tokens.append(.literal(text))
            case "a"..."z", "A"..."Z", "_":
                var word = String.UnicodeScalarView()
                while i < chars.count, ("a"..."z").contains(chars[i]) || ("A"..."Z").contains(chars[i])
                        || ("0"..."9").contains(chars[i]) || chars[i] == "_" || chars[i] == "$" {
                    word.append(chars[i])
                    i += 1
                }
                tokens.append(.word(String(word)))
            default:
                throw ScanError(description: "an unexpected character U+\(String(c.value, radix: 16, uppercase: true))")
            }
        }
        return tokens
    }
}
