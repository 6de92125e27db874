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
