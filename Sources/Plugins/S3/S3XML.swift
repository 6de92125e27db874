import Foundation

/// The small XML documents S3 and STS answer with, read into a tree of elements.
///
/// Written here because the answers are small and regular (no namespaces we need, no mixed content, no
/// DTDs), and Foundation's XMLParser on Linux brings libxml2 into the statically linked binary for it.
/// It skips attributes, comments and processing instructions; S3 sends no CDATA, which is kept as text.
struct S3XML: Sendable {
    var name: String
    var text: String
    var children: [S3XML]

    /// The first child element called `name`.
    subscript(_ name: String) -> S3XML? { children.first { $0.name == name } }

    /// Every child element called `name`, in document order.
    func all(_ name: String) -> [S3XML] { children.filter { $0.name == name } }

    /// The text of the child called `name`.
    func value(_ name: String) -> String? { self[name]?.text }

    /// The child called `name` read as an ISO 8601 time, with or without fractional seconds.
    func date(_ name: String) -> Date? {
        guard let text = value(name) else { return nil }
        return (try? Date(text, strategy: .iso8601))
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    /// The document's root element, or nil when `bytes` is not XML this reader understands.
    static func parse(_ bytes: [UInt8]) -> S3XML? {
        var reader = Reader(bytes: bytes)
        return reader.document()
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func document() -> S3XML? {
            while true {
                skipText()
                guard index < bytes.count else { return nil }
                if starts("<?") { guard skip(past: "?>") else { return nil }; continue }
                if starts("<!--") { guard skip(past: "-->") else { return nil }; continue }
                if starts("<!") { guard skip(past: ">") else { return nil }; continue }
                return element()
            }
        }

        /// How deep elements may nest: S3's answers nest four deep; a document nested deeper is not one of
        /// them, and reading it would recurse as deep as it goes.
        static let maximumDepth = 32
        var depth = 0

        /// An element starting at `<`, with everything inside it.
        mutating func element() -> S3XML? {
            depth += 1
            defer { depth -= 1 }
            index += 1
            let name = readName()
            guard depth <= Self.maximumDepth, Self.isName(name), let selfClosing = skipAttributes() else { return nil }
            var node = S3XML(name: name, text: "", children: [])
            if selfClosing { return node }
            var text: [UInt8] = []
            while index < bytes.count {
                if bytes[index] != UInt8(ascii: "<") {
                    text.append(bytes[index])
                    index += 1
                } else if starts("</") {
                    index += 2
                    guard readName() == name, skip(past: ">") else { return nil }
                    node.text = Self.decode(text)
                    return node
                } else if starts("<!--") {
                    guard skip(past: "-->") else { return nil }
                } else if starts("<![CDATA[") {
                    index += 9
                    let start = index
                    guard skip(past: "]]>") else { return nil }
                    text += bytes[start..<(index - 3)]
                } else {
                    guard let child = element() else { return nil }
                    node.children.append(child)
                }
            }
            return nil
        }

        /// An XML name as S3 writes them: letters, digits, `-`, `_`, `.`, and beyond ASCII (a `<` in a name,
        /// say, is not XML; found by scripts/fuzz).
        static func isName(_ name: String) -> Bool {
            let letter: (UInt8) -> Bool = { $0 >= 0x80 || (0x41...0x5A).contains($0 & 0xDF) || $0 == 0x5F }
            guard let first = name.utf8.first, letter(first) else { return false }
            return name.utf8.allSatisfy { letter($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x2E }
        }

        mutating func readName() -> String {
            let start = index
            while index < bytes.count, !" \t\r\n/>".utf8.contains(bytes[index]) { index += 1 }
            let full = String(decoding: bytes[start..<index], as: UTF8.self)
            // `s3:Key` and `Key` are the same element to us.
            return full.split(separator: ":").last.map(String.init) ?? full
        }

        /// Skips to the end of a start tag; true when it was `/>`. Nil when the document ends first.
        mutating func skipAttributes() -> Bool? {
            var quote: UInt8?
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: ">") {
                    return index >= 2 && bytes[index - 2] == UInt8(ascii: "/")
                }
            }
            return nil
        }

        mutating func skipText() {
            while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
        }

        func starts(_ text: String) -> Bool {
            let utf8 = Array(text.utf8)
            return index + utf8.count <= bytes.count && bytes[index..<(index + utf8.count)].elementsEqual(utf8)
        }

        mutating func skip(past text: String) -> Bool {
            while index < bytes.count {
                if starts(text) { index += text.utf8.count; return true }
                index += 1
            }
            return false
        }

        /// Text with the five named entities and numeric references replaced.
        static func decode(_ raw: [UInt8]) -> String {
            let text = String(decoding: raw, as: UTF8.self)
            guard text.contains("&") else { return text }
            var out = ""
            var rest = Substring(text)
            while let amp = rest.firstIndex(of: "&") {
                out += rest[..<amp]
                guard let semicolon = rest[amp...].firstIndex(of: ";") else { break }
                let entity = rest[rest.index(after: amp)..<semicolon]
                switch entity {
                case "amp": out += "&"
                case "lt": out += "<"
                case "gt": out += ">"
                case "quot": out += "\""
                case "apos": out += "'"
                default:
                    let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                        : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                    if let number, let scalar = Unicode.Scalar(number) {
                        out.unicodeScalars.append(scalar)
                    } else {
                        out += "&\(entity);"
                    }
                }
                rest = rest[rest.index(after: semicolon)...]
            }
            return out + rest
        }
    }
}
