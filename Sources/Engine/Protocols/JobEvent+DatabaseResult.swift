extension JobEvent {
    /// How one database of a whole-server job fared in the run.
    public struct DatabaseResult: Sendable, Equatable {
        public var database: String
        /// `success` when its backup was stored everywhere, `partial` when at some destinations, else `failure`.
        public var status: Status
        /// Where its backup is (the first destination's copy); nil when none was stored.
        public var file: String?
        public var bytes: Int64
        public var rawBytes: Int64
        /// Why not, one line; nil on success.
        public var error: String?

        public init(database: String, status: Status, file: String?, bytes: Int64, rawBytes: Int64,
                    error: String?) {
            self.database = database
            self.status = status
            self.file = file
            self.bytes = bytes
            self.rawBytes = rawBytes
            self.error = error
        }
    }
}
