/// Text from outside (a config file, a name) made fit for one line of an error message.
public enum Printable {
    /// Control characters as `\u{…}` escapes; beyond `keeping` characters, the middle is cut to `…`.
    public static func clip(_ text: String, keeping limit: Int) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control || scalar == "\u{FFFD}" {
                escaped += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                escaped.unicodeScalars.append(scalar)
            }
            if escaped.count > limit * 4 { break }
        }
        guard escaped.count > limit else { return escaped }
        let head = escaped.prefix(limit * 2 / 3)
        let tail = text.count <= limit * 4 ? escaped.suffix(limit / 3) : ""
        return "\(head)…\(tail)"
    }
}
