/// One `key = value` line of a configuration file, after quotes, comments and `${VAR}` were resolved.
public struct ConfigEntry: Sendable, Equatable {
    public var key: String
    public var value: String
    public var file: String
    public var line: Int?

    public init(key: String, value: String, file: String, line: Int?) {
        self.key = key
        self.value = value
        self.file = file
        self.line = line
    }
}
