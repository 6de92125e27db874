extension ConfigDocument {
    /// Reads a configuration file one line at a time: a `[job]` header, a `key = value` entry (its quotes,
    /// comments and `${VAR}` resolved), or nothing; errors name the file, the line and the key.
    struct LineParser {
        enum Line { case nothing, section(String), entry(ConfigEntry) }

        let file: String
        let environment: [String: String]
        var lineNumber = 0

        init(file: String, environment: [String: String]) {
            self.file = file
            self.environment = environment
        }

        func error(_ key: String?, _ message: String) -> ConfigError {
            ConfigError(file: file, line: lineNumber, key: key, message: message)
        }

        func parse(_ raw: String) throws(ConfigError) -> Line {
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { return .nothing }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else {
                    throw error(nil, "a section header needs a closing ']', as in [myjob]")
                }
                let name = String(line[line.index(after: line.startIndex)..<close]).trimmingWhitespace()
                let rest = line[line.index(after: close)...].trimmingWhitespace()
                guard rest.isEmpty || rest.hasPrefix("#") else {
                    throw error(nil, "unexpected text after [\(name)]")
                }
                guard JobName.isValid(name) else {
                    throw error(nil, "job name '\(name)' may use only letters, digits, '-', '.' and '_'")
                }
                return .section(name)
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw error(nil, "expected 'key = value', a [job] header or a # comment")
            }
            let key = String(line[..<equals]).trimmingWhitespace()
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || "._@".contains($0) }) else {
                throw error(key.isEmpty ? nil : key, "a key is made of letters, digits, '.', '_' and '@', "
                            + "as in notify.timeout or name@label.key")
            }
            let value = try parseValue(String(line[line.index(after: equals)...]).trimmingWhitespace(), key: key)
            return .entry(ConfigEntry(key: key, value: value, file: file, line: lineNumber))
        }

        private func parseValue(_ text: String, key: String) throws(ConfigError) -> String {
            guard let quote = text.first, quote == "\"" || quote == "'" else {
                return try expand(stripComment(text), key: key)
            }
            var value = ""
            var index = text.index(after: text.startIndex)
            var escaped = false
            while index < text.endIndex {
                let character = text[index]
                if escaped {
                    value.append(character)
                    escaped = false
                } else if character == "\\" && quote == "\"" {
                    escaped = true
                } else if character == quote {
                    let rest = text[text.index(after: index)...].trimmingWhitespace()
                    guard rest.isEmpty || rest.hasPrefix("#") else {
                        throw error(key, "unexpected text after the closing quote")
                    }
                    return quote == "'" ? value : try expand(value, key: key)
                } else {
                    value.append(character)
                }
                index = text.index(after: index)
            }
            throw error(key, "the value has no closing \(quote)")
        }

        /// `#` starts a comment only at the start of a value or after whitespace, so `pa#ss` stays intact.
        private func stripComment(_ text: String) -> String {
            var previous: Character = " "
            for index in text.indices {
                if text[index] == "#" && previous.isWhitespace { return String(text[..<index]).trimmingWhitespace() }
                previous = text[index]
            }
            return text
        }

        /// Defaults may hold `${VAR}` this deep (`${A:-${B:-${C}}}` is three): each level scans what is left
        /// of the line again, so an unbounded nesting cost time in the square of the line (found by
        /// scripts/fuzz: seconds for one line of 7 KB).
        static let maximumNesting = 8

        private func expand(_ text: String, key: String, level: Int = 0) throws(ConfigError) -> String {
            guard level <= Self.maximumNesting else {
                throw error(key, "'${' defaults nested more than \(Self.maximumNesting) deep")
            }
            var result = ""
            var rest = Substring(text)
            while let start = rest.range(of: "${") {
                result += rest[..<start.lowerBound]
                // The closing brace that matches: a default may itself hold `${VAR}` (`${A:-${B}}`), as in sh.
                var depth = 0
                var scan = start.upperBound
                var closing: Substring.Index?
                while scan < rest.endIndex, closing == nil {
                    if rest[scan...].hasPrefix("${") {
                        depth += 1
                        scan = rest.index(scan, offsetBy: 2)
                        continue
                    }
                    if rest[scan] == "}" {
                        if depth == 0 { closing = scan } else { depth -= 1 }
                    }
                    scan = rest.index(after: scan)
                }
                guard let end = closing else {
                    throw error(key, "'${' has no closing '}'")
                }
                let body = String(rest[start.upperBound..<end])
                let name: String
                let fallback: String?
                if let separator = body.range(of: ":-") {
                    name = String(body[..<separator.lowerBound])
                    fallback = String(body[separator.upperBound...])
                } else {
                    name = body
                    fallback = nil
                }
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw error(key, "'${\(body)}' is not a variable name")
                }
                if let value = environment[name], !(value.isEmpty && fallback != nil) {
                    result += value
                } else if let fallback {
                    result += try expand(fallback, key: key, level: level + 1)
                } else {
                    throw error(key, "environment variable \(name) is not set; set it or write ${\(name):-default}")
                }
                rest = rest[rest.index(after: end)...]
            }
            return result + rest
        }
    }
}
