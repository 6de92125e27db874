/// Reads an age header line by line, strictly: printable ASCII lines ending in LF, the version line, stanzas
/// (`-> type args…` and base64 body lines of 64 columns, the last shorter) and the MAC line.
struct AgeHeaderLines {
    let bytes: ArraySlice<UInt8>
    /// Where the next line starts.
    private(set) var position: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    /// The next line without its LF; nil when `bytes` ends before it does.
    mutating func next() throws(AgeFailure) -> String? {
        guard let end = bytes[position...].firstIndex(of: 0x0a) else {
            if bytes.count > AgeHeader.maximumSize {
                throw AgeFailure(.header, "not an age file: no end of header within 1 MiB")
            }
            return nil
        }
        let text = bytes[position..<end]
        guard text.allSatisfy({ (0x20...0x7e).contains($0) }) else {
            throw AgeFailure(.header, "the age header has a character that is not printable ASCII (or a CR)")
        }
        position = end + 1
        return String(decoding: text, as: UTF8.self)
    }

    /// Reads the version line: true when it is age v1, false when `bytes` ends before it (and what there is
    /// could still be it).
    mutating func version() throws(AgeFailure) -> Bool {
        let expected = AgeHeader.versionLine
        guard let version = try next() else {
            if !bytes.elementsEqual(Array(expected.utf8).prefix(bytes.count)) {
                throw AgeFailure(.header, "not an age file (it does not start with \(expected))")
            }
            return false
        }
        guard version == expected else {
            throw AgeFailure(.header, version.hasPrefix("age-encryption.org/")
                ? "unsupported age version '\(version)'" : "not an age file (it does not start with \(expected))")
        }
        return true
    }

    /// The stanza whose first line is `text` (already read), with its body lines; nil when `bytes` ends
    /// before the body does.
    mutating func stanza(_ text: String) throws(AgeFailure) -> AgeStanza? {
        guard text.hasPrefix("-> ") else {
            throw AgeFailure(.header, "the age header has a line that is neither a stanza nor its MAC")
        }
        let arguments = text.dropFirst(3).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard arguments.allSatisfy({ !$0.isEmpty }) else {
            throw AgeFailure(.header, "an age stanza has an empty argument")
        }
        var encoded = ""
        while true {
            guard let bodyLine = try next() else { return nil }
            guard bodyLine.count <= 64, bodyLine.utf8.allSatisfy(AgeBase64.isAlphabet) else {
                throw AgeFailure(.header, "an age stanza's body line is not base64 of at most 64 columns")
            }
            encoded += bodyLine
            if bodyLine.count < 64 { break }
        }
        guard let body = AgeBase64.decode(encoded) else {
            throw AgeFailure(.header, "an age stanza's body is not canonical base64")
        }
        return AgeStanza(type: arguments[0], arguments: Array(arguments.dropFirst()), body: body)
    }

    /// The MAC of the final line `text` (`--- ` and 32 bytes of base64).
    static func mac(_ text: String) throws(AgeFailure) -> [UInt8] {
        guard text.hasPrefix("--- ") else { throw AgeFailure(.header, "the age header's MAC line is malformed") }
        guard let mac = AgeBase64.decode(String(text.dropFirst(4))), mac.count == 32 else {
            throw AgeFailure(.header, "the age header's MAC is not 32 bytes of canonical base64")
        }
        return mac
    }
}
