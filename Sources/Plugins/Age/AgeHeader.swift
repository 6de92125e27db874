import Crypto

/// The header of an age v1 file (age-encryption.org/v1): its stanzas and MAC, parsed strictly, since the
/// MAC covers the header's bytes as written and every encoding has exactly one valid form.
struct AgeHeader {
    static let versionLine = "age-encryption.org/v1"
    /// Far above any real header (a stanza is about 100 bytes); beyond it the input is not age.
    static let maximumSize = 1 << 20

    var stanzas: [AgeStanza]
    var mac: [UInt8]
    /// The bytes the MAC covers: from the version line to the final line's `---`.
    var macInput: [UInt8]

    /// The header at the start of `bytes` and its length, or nil when `bytes` ends before the header does.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(AgeFailure) -> (header: AgeHeader, length: Int)? {
        let start = bytes.startIndex
        var position = start
        var stanzas: [AgeStanza] = []
        /// The next line without its LF; nil when incomplete.
        func line() throws(AgeFailure) -> String? {
            guard let end = bytes[position...].firstIndex(of: 0x0a) else {
                if bytes.count > maximumSize {
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
        guard let version = try line() else {
            let prefix = Array(versionLine.utf8).prefix(bytes.count)
            if !bytes.elementsEqual(prefix) {
                throw AgeFailure(.header, "not an age file (it does not start with \(versionLine))")
            }
            return nil
        }
        guard version == versionLine else {
            throw AgeFailure(.header, version.hasPrefix("age-encryption.org/")
                ? "unsupported age version '\(version)'" : "not an age file (it does not start with \(versionLine))")
        }
        while true {
            let lineStart = position
            guard let text = try line() else { return nil }
            if text.hasPrefix("---") {
                guard text.hasPrefix("--- ") else {
                    throw AgeFailure(.header, "the age header's MAC line is malformed")
                }
                let encoded = String(text.dropFirst(4))
                guard let mac = AgeBase64.decode(encoded), mac.count == 32 else {
                    throw AgeFailure(.header, "the age header's MAC is not 32 bytes of canonical base64")
                }
                let header = AgeHeader(stanzas: stanzas, mac: mac, macInput: Array(bytes[start..<(lineStart + 3)]))
                return (header, position - start)
            }
            guard text.hasPrefix("-> ") else {
                throw AgeFailure(.header, "the age header has a line that is neither a stanza nor its MAC")
            }
            let arguments = text.dropFirst(3).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard arguments.allSatisfy({ !$0.isEmpty }) else {
                throw AgeFailure(.header, "an age stanza has an empty argument")
            }
            var encoded = ""
            while true {
                guard let bodyLine = try line() else { return nil }
                guard bodyLine.count <= 64, bodyLine.utf8.allSatisfy(AgeBase64.isAlphabet) else {
                    throw AgeFailure(.header, "an age stanza's body line is not base64 of at most 64 columns")
                }
                encoded += bodyLine
                if bodyLine.count < 64 { break }
            }
            guard let body = AgeBase64.decode(encoded) else {
                throw AgeFailure(.header, "an age stanza's body is not canonical base64")
            }
            stanzas.append(AgeStanza(type: arguments[0], arguments: Array(arguments.dropFirst()), body: body))
        }
    }

    /// The header with `stanzas`, MAC'd with `fileKey`, as bytes.
    static func encode(_ stanzas: [AgeStanza], fileKey: SymmetricKey) -> [UInt8] {
        var text = versionLine + "\n"
        for stanza in stanzas {
            text += "-> " + ([stanza.type] + stanza.arguments).joined(separator: " ") + "\n"
            let body = AgeBase64.encode(stanza.body)
            var index = body.startIndex
            // Full 64-column lines, then a shorter (possibly empty) last one.
            while true {
                let end = body.index(index, offsetBy: 64, limitedBy: body.endIndex) ?? body.endIndex
                text += String(body[index..<end]) + "\n"
                if body.distance(from: index, to: end) < 64 { break }
                index = end
            }
        }
        text += "---"
        var bytes = Array(text.utf8)
        bytes += Array((" " + AgeBase64.encode(mac(bytes, fileKey: fileKey)) + "\n").utf8)
        return bytes
    }

    /// The header MAC's key, derived from the file key.
    private static func macKey(_ fileKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: [UInt8](), info: Array("header".utf8),
                               outputByteCount: 32)
    }

    static func mac(_ input: [UInt8], fileKey: SymmetricKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: input, using: macKey(fileKey)))
    }

    /// Throws `.hmac` unless the MAC matches `fileKey`.
    func checkMAC(fileKey: SymmetricKey) throws(AgeFailure) {
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: macInput, using: Self.macKey(fileKey)) else {
            throw AgeFailure(.hmac, "the age header was altered (its MAC does not match)")
        }
    }
}
