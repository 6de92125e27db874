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

    /// Bounds that keep a wrong file (a binary, a dump) from costing time: parsing stays linear and short.
    static let maximumLineBytes = 64 << 10
    static let maximumFileBytes = 4 << 20

    /// Parses `text` as the file named `file`, expanding `${VAR}` and `${VAR:-default}` from `environment`.
    public static func parse(
        _ text: String, file: String, environment: [String: String]
    ) throws(ConfigError) -> ConfigDocument {
        guard text.utf8.count <= maximumFileBytes else {
            throw ConfigError(file: file, line: nil, key: nil, message: "the file is larger than "
                              + "\(maximumFileBytes >> 20) MiB; is this the configuration file?")
        }
        var parser = LineParser(file: file, environment: environment)
        var document = ConfigDocument(file: file, defaults: [], sections: [])
        var seen: [String: Int] = [:]
        var sectionLines: [String: Int] = [:]
        // Each job's name in lower case: one lookup per section, not a pass over all before it.
        var lowercased: [String: String] = [:]
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            parser.lineNumber = index + 1
            // No setting needs more (a certificate bundle is a _file); a longer line is not a config file's.
            guard rawLine.utf8.count <= Self.maximumLineBytes else {
                throw parser.error(nil, "the line is longer than \(Self.maximumLineBytes) bytes; "
                                   + "is this the configuration file?")
            }
            switch try parser.parse(String(rawLine)) {
            case .nothing:
                continue
            case .section(let name):
                if let first = sectionLines[name] {
                    throw parser.error(nil, "job [\(name)] is already defined at line \(first); rename one of them")
                }
                // Job names become file and object names; on a case-insensitive volume these would clash.
                if let other = lowercased[name.lowercased()] {
                    throw parser.error(nil, "jobs [\(other)] (line \(sectionLines[other]!)) and [\(name)] differ "
                                       + "only in case, so their files would clash on a case-insensitive volume; "
                                       + "rename one of them")
                }
                sectionLines[name] = parser.lineNumber
                lowercased[name.lowercased()] = name
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
