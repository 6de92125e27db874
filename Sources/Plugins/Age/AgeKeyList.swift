/// Key lists as people write them: separated by commas, spaces or lines, `#` starting a comment.
enum AgeKeyList {
    /// An entry of an identity list that is not an identity, named by position only: it may be a secret.
    struct BadIdentity: Error, CustomStringConvertible {
        let number: Int
        var description: String {
            "entry \(number) is not an AGE-SECRET-KEY-1… identity (as age-keygen or `backup keygen` writes)"
        }
    }

    /// The identities in `text` (an identity file, or the `identity` setting).
    static func identities(_ text: String) throws(BadIdentity) -> [X25519Identity] {
        var identities: [X25519Identity] = []
        for (index, token) in tokens(text).enumerated() {
            guard let identity = X25519Identity(token) else { throw BadIdentity(number: index + 1) }
            identities.append(identity)
        }
        return identities
    }

    /// `count` bytes from the system's secure generator: salts and nonces.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func tokens(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).flatMap { line -> [String] in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return content.split { $0 == "," || $0 == " " || $0 == "\t" }.map(String.init)
        }
    }
}
