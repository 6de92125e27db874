/// An error a person can act on: a stable `code`, a message that says what is wrong and what to do, and the
/// underlying cause.
///
/// `description` is safe to print and log: messages never contain passwords or connection strings with
/// credentials, and the cause is shown through its own (equally safe) description.
public struct BackupError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; callers branch on it, people read `message`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The configuration file or environment is wrong.
        public static let config = Code("config")
        /// The database server cannot be reached in time.
        public static let unreachable = Code("unreachable")
        /// The server refused the credentials.
        public static let authentication = Code("authentication")
        /// The database named in the configuration does not exist.
        public static let databaseMissing = Code("database-missing")
        /// The source (for example its dump tool) failed while producing the dump.
        public static let sourceFailed = Code("source-failed")
        /// A required tool is missing or too old.
        public static let toolMissing = Code("tool-missing")
        /// The destination is missing, unwritable or failed while writing.
        public static let destination = Code("destination")
        /// The destination ran out of space.
        public static let destinationFull = Code("destination-full")
        /// Compression or decompression failed.
        public static let compression = Code("compression")
        /// Decryption failed: no key or the wrong key for the backup, or its encrypted bytes are damaged.
        public static let decryption = Code("decryption")
        /// A named job or backup does not exist.
        public static let notFound = Code("not-found")
        /// A stored backup does not match its manifest.
        public static let corrupt = Code("corrupt")
        /// A restored database does not match what the backup recorded.
        public static let verificationFailed = Code("verification-failed")
        /// A restore target already exists or is in use.
        public static let targetBusy = Code("target-busy")
        /// The operation was cancelled (for example by a signal).
        public static let cancelled = Code("cancelled")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message) (\(cause))"
    }
}

/// A configuration error, located at `file:line` and naming the key, so the person can go straight to it.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String

    public init(file: String, line: Int?, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// Safe to print whatever the file held: control bytes are escaped, a key longer than any real one is
    /// cut, and a long message keeps its beginning and its advice at the end.
    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        let text = Printable.clip(message, keeping: 400)
        if let key { return "\(location): \(Printable.clip(key, keeping: 80)): \(text)" }
        return "\(location): \(text)"
    }
}

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
