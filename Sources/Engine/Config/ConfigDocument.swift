/// One `key = value` line of a configuration file, after quotes, comments and `${VAR}` were resolved.
public struct ConfigEntry: Sendable, Equatable {
    public var key: String
    public var value: String
    public var file: String
    public var line: Int?

    public init(key: String, value: String, file: String, line: Int?) {
        self.key = key
        self.value = value
        self.file = file
        self.line = line
    }
}

/// A `[name]` section of a configuration file: one job.
public struct ConfigSection: Sendable, Equatable {
    public var name: String
    public var line: Int
    public var entries: [ConfigEntry]
}

/// A parsed configuration file: the defaults before the first section, then one section per job.
///
/// The parser knows the syntax only; which keys exist is decided by ``JobLoader`` from the plugins.
public struct ConfigDocument: Sendable, Equatable {
    public var file: String
    public var defaults: [ConfigEntry]
    public var sections: [ConfigSection]

    public init(file: String, defaults: [ConfigEntry], sections: [ConfigSection]) {
        self.file = file
        self.defaults = defaults
        self.sections = sections
    }

    /// The document with `entries` (e.g. from command-line options) set for every job: any `x` or `x_file`
    /// the file sets for a key of `entries` is dropped first, so the two never meet as a conflict.
    public func overriding(_ entries: [ConfigEntry]) -> ConfigDocument {
        func setting(_ key: String) -> String { key.hasSuffix("_file") ? String(key.dropLast(5)) : key }
        let replaced = Set(entries.map { setting($0.key) })
        var document = self
        document.defaults = defaults.filter { !replaced.contains(setting($0.key)) } + entries
        for index in document.sections.indices {
            document.sections[index].entries.removeAll { replaced.contains(setting($0.key)) }
        }
        return document
    }

    /// Parses `text` as the file named `file`, expanding `${VAR}` and `${VAR:-default}` from `environment`.
    /// Bounds that keep a wrong file (a binary, a dump) from costing time: parsing stays linear and short.
    static let maximumLineBytes = 64 << 10
    static let maximumFileBytes = 4 << 20

    public static func parse(
        _ text: String, file: String, environment: [String: String]
    ) throws(ConfigError) -> ConfigDocument {
        guard text.utf8.count <= maximumFileBytes else {
            throw ConfigError(file: file, line: nil, key: nil, message: "the file is larger than \(maximumFileBytes >> 20) MiB; is this the configuration file?")
        }
        var parser = LineParser(file: file, environment: environment)
        var document = ConfigDocument(file: file, defaults: [], sections: [])
        var seen: [String: Int] = [:]
        var sectionLines: [String: Int] = [:]
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            parser.lineNumber = index + 1
            // No setting needs more (a certificate bundle is a _file); a longer line is not a config file's.
            guard rawLine.utf8.count <= Self.maximumLineBytes else {
                throw parser.error(nil, "the line is longer than \(Self.maximumLineBytes) bytes; is this the configuration file?")
            }
            switch try parser.parse(String(rawLine)) {
            case .nothing:
                continue
            case .section(let name):
                if let first = sectionLines[name] {
                    throw parser.error(nil, "job [\(name)] is already defined at line \(first); rename one of them")
                }
                // Job names become file and object names; on a case-insensitive volume these would clash.
                if let other = sectionLines.keys.first(where: { $0.lowercased() == name.lowercased() }) {
                    throw parser.error(nil, "jobs [\(other)] (line \(sectionLines[other]!)) and [\(name)] differ only in case, "
                                       + "so their files would clash on a case-insensitive volume; rename one of them")
                }
                sectionLines[name] = parser.lineNumber
                document.sections.append(ConfigSection(name: name, line: parser.lineNumber, entries: []))
                seen = [:]
            case .entry(let entry):
                if let first = seen[entry.key] {
                    throw parser.error(entry.key, "set twice in one section (first at line \(first)); keep one")
                }
                seen[entry.key] = parser.lineNumber
                if document.sections.isEmpty {
                    document.defaults.append(entry)
                } else {
                    document.sections[document.sections.count - 1].entries.append(entry)
                }
            }
        }
        return document
    }
}

private struct LineParser {
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
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "@" }) else {
            throw error(key.isEmpty ? nil : key, "a key is made of letters, digits, '.', '_' and '@', as in notify.timeout or name@label.key")
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

    private func expand(_ text: String, key: String) throws(ConfigError) -> String {
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
                result += try expand(fallback, key: key)
            } else {
                throw error(key, "environment variable \(name) is not set; set it or write ${\(name):-default}")
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = lastIndex(where: { !$0.isWhitespace })!
        return String(self[first...last])
    }
}
