import Subprocess

/// psql's `COPY n` command tags, the rows the server loaded per COPY, in order, from psql's output in
/// pieces cut anywhere.
struct CopyTags {
    private(set) var rows: [Int64] = []
    private var line: [UInt8] = []
    private var tooLong = false
    private static let prefix = Array("COPY ".utf8)

    static func collect(_ sequence: SubprocessOutputSequence) async throws -> [Int64] {
        var tags = CopyTags()
        for try await buffer in sequence {
            buffer.withUnsafeBytes { tags.scan($0) }
        }
        return tags.rows
    }

    mutating func scan(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            if byte == 0x0A {
                if !tooLong, let count = Self.parse(line) { rows.append(count) }
                line.removeAll(keepingCapacity: true)
                tooLong = false
            } else if line.count < 32 {
                line.append(byte)
            } else {
                tooLong = true
            }
        }
    }

    /// The row count of a line that is exactly `COPY <digits>`.
    static func parse(_ line: [UInt8]) -> Int64? {
        guard line.count > prefix.count, line.starts(with: prefix) else { return nil }
        let digits = line[prefix.count...]
        guard digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int64(String(decoding: digits, as: UTF8.self))
    }

    /// Rows per table when every COPY in the dump has its tag; nil otherwise.
    static func pair(tables: [String], tags: [Int64]) -> [String: Int64]? {
        guard tables.count == tags.count else { return nil }
        return Dictionary(zip(tables, tags), uniquingKeysWith: +)
    }
}
