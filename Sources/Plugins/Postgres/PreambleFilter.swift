/// Drops from the preamble of a script that a newer pg_dump or pg_restore wrote the settings an older server
/// does not have: `SET transaction_timeout = 0;` (pg_dump 17 and newer), which PostgreSQL 16 and older
/// refuse, failing the whole restore. The preamble is the lines before the first statement that is not a
/// `SET`, a `SELECT pg_catalog.set_config(…)`, a comment, `\restrict` or an empty line; a dropped setting must
/// be a whole line of it, exactly as pg_dump writes it. From the first other line on, every byte passes
/// unchanged, so nothing in the dump's own statements or data is ever touched.
struct PreambleFilter: Sendable {
    /// The settings dropped, each as its whole line.
    static let dropped: Set<[UInt8]> = [Array("SET transaction_timeout = 0;".utf8)]
    /// A preamble line is short; a longer one ends the preamble.
    static let longestLine = 4096

    private var line: [UInt8] = []
    private(set) var done = false
    /// How many lines were dropped.
    private(set) var removed = 0

    mutating func filter(_ bytes: [UInt8], into out: inout [UInt8]) {
        guard !done else {
            out += bytes
            return
        }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            line.append(byte)
            if byte == 0x0A {
                endLine(into: &out)
            } else if line.count > Self.longestLine {
                done = true
                out += line
                line = []
            }
            if done {
                out += bytes[index...]
                return
            }
        }
    }

    mutating func finish(into out: inout [UInt8]) {
        out += line
        line = []
        done = true
    }

    private mutating func endLine(into out: inout [UInt8]) {
        var text = line.dropLast()
        if text.last == 0x0D { text = text.dropLast() }
        if Self.dropped.contains(Array(text)) {
            removed += 1
            line = []
            return
        }
        let preamble = text.isEmpty || ["--", "SET ", "SELECT pg_catalog.set_config(", "\\restrict "].contains {
            text.starts(with: Array($0.utf8))
        }
        out += line
        line = []
        if !preamble { done = true }
    }
}
