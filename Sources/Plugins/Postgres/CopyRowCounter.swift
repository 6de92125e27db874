import Foundation

/// Counts each table's rows in a plain-format dump as it streams past, so `backup verify` has exact counts
/// without reading every table a second time.
///
/// In a plain dump each table's data is a `COPY schema.table (columns) FROM stdin;` line, preceded by
/// pg_dump's `-- Data for Name: …; Type: TABLE DATA; …` comment, then one line per row (text format
/// escapes newlines inside values as `\n`), then a line `\.`. Counting lines between the two is exact.
/// Requiring the comment keeps a `COPY … FROM stdin;` line inside a function body from being taken for data.
final class CopyRowCounter {
    /// Rows per table, keyed `schema.table` with pg_dump's quoting removed, as the catalog names them.
    private(set) var counts: [String: Int64] = [:]
    /// The tables in the order their data ended, one entry per COPY.
    private(set) var tables: [String] = []

    private var table: String?
    private var rows: Int64 = 0
    /// The current line's first bytes (outside data: the whole line, up to `maxLine`), across chunks.
    private var line: [UInt8] = []
    private var lineLength = 0
    private var sawDataComment = false

    private static let maxLine = 1 << 16
    private static let dataComment = Array("-- Data for Name: ".utf8)
    private static let copyPrefix = Array("COPY ".utf8)
    private static let copySuffix = Array(" FROM stdin;".utf8)

    func scan(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var start = 0
        let end = bytes.count
        while start < end {
            guard let found = memchr(base + start, 0x0A, end - start) else {
                keep(base + start, end - start)
                return
            }
            let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if table != nil && line.isEmpty && lineLength == 0 {
                // The common case, a whole row inside this chunk: no copying at all.
                rowOrEnd(base + start, newline - start)
            } else {
                keep(base + start, newline - start)
                line.withUnsafeBufferPointer { buffer in endLine(buffer.baseAddress, lineLength, kept: buffer.count) }
                line.removeAll(keepingCapacity: true)
                lineLength = 0
            }
            start = newline + 1
        }
    }

    /// Remembers a piece of the current line: inside data only its first two bytes matter.
    private func keep(_ bytes: UnsafePointer<UInt8>, _ count: Int) {
        let limit = table != nil ? 2 : Self.maxLine
        let room = max(0, limit - line.count)
        if room > 0 { line.append(contentsOf: UnsafeBufferPointer(start: bytes, count: min(room, count))) }
        lineLength += count
    }

    private func endLine(_ bytes: UnsafePointer<UInt8>?, _ length: Int, kept: Int) {
        if table != nil {
            rowOrEnd(bytes, length)
        } else if let bytes, length == kept {
            header(UnsafeBufferPointer(start: bytes, count: length))
        } else {
            sawDataComment = false
        }
    }

    private func rowOrEnd(_ bytes: UnsafePointer<UInt8>?, _ length: Int) {
        if length == 2, let bytes, bytes[0] == 0x5C, bytes[1] == 0x2E {  // "\."
            counts[table!] = rows
            tables.append(table!)
            table = nil
        } else {
            rows += 1
        }
    }

    private func header(_ line: UnsafeBufferPointer<UInt8>) {
        if line.starts(with: Self.dataComment) {
            sawDataComment = true
            return
        }
        guard sawDataComment, line.starts(with: Self.copyPrefix), line.count > Self.copyPrefix.count,
              let name = Self.qualifiedName(line[Self.copyPrefix.count...])
        else {
            // pg_dump puts only "--" and blank lines between the comment and its COPY.
            if !(line.isEmpty || (line.count == 2 && line[0] == 0x2D && line[1] == 0x2D)) { sawDataComment = false }
            return
        }
        guard line.suffix(Self.copySuffix.count).elementsEqual(Self.copySuffix) else { return }
        sawDataComment = false
        table = name
        rows = 0
    }

    /// `schema.table` from pg_dump's `schema.table` or `"Some Schema"."Table"` at the start of `text`.
    static func qualifiedName(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        var index = text.startIndex
        func identifier() -> String? {
            var bytes: [UInt8] = []
            if index < text.endIndex && text[index] == 0x22 {  // quoted; "" stands for one quote
                index += 1
                while index < text.endIndex {
                    if text[index] == 0x22 {
                        if index + 1 < text.endIndex && text[index + 1] == 0x22 {
                            bytes.append(0x22)
                            index += 2
                            continue
                        }
                        index += 1
                        return String(decoding: bytes, as: UTF8.self)
                    }
                    bytes.append(text[index])
                    index += 1
                }
                return nil
            }
            while index < text.endIndex && text[index] != 0x2E && text[index] != 0x20 {
                bytes.append(text[index])
                index += 1
            }
            return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
        }
        guard let schema = identifier(), index < text.endIndex, text[index] == 0x2E else { return nil }
        index += 1
        guard let name = identifier() else { return nil }
        return "\(schema).\(name)"
    }
}
