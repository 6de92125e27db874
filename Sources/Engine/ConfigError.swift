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
