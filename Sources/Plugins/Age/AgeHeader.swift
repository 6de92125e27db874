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
        var lines = AgeHeaderLines(bytes: bytes)
        guard try lines.version() else { return nil }
        var stanzas: [AgeStanza] = []
        while true {
            let lineStart = lines.position
            guard let text = try lines.next() else { return nil }
            if text.hasPrefix("---") {
                let mac = try AgeHeaderLines.mac(text)
                let header = AgeHeader(stanzas: stanzas, mac: mac,
                                       macInput: Array(bytes[bytes.startIndex..<(lineStart + 3)]))
                return (header, lines.position - bytes.startIndex)
            }
            guard let stanza = try lines.stanza(text) else { return nil }
            stanzas.append(stanza)
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
