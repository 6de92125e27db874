/// One configuration key a plugin (or the engine) accepts: its name without the plugin prefix, the kind of
/// value, its default and whether it is secret.
///
/// The engine validates every value against its `kind` before a plugin sees it, so a plugin's `make` reads
/// settings that are already well-formed.
public struct KeySpec: Sendable {
    /// The shape of a value.
    public enum Kind: Sendable {
        case string
        case integer(ClosedRange<Int>)
        /// A duration such as `10s`, `5m`, `24h`, `7d` or `1h30m`; a bare number is seconds.
        case duration
        case choice([String])
        case boolean
        /// `address:port`, as ``HTTPAddress`` reads it (`0.0.0.0:9187`, `[::1]:9187`, `:9187`).
        case address
        /// A number of bytes such as `16MiB`, `5GB` or `1048576`, as ``SizeParser`` reads it, in this range.
        case size(ClosedRange<Int64>)
    }

    public var name: String
    public var kind: Kind
    public var defaultValue: String?
    public var required: Bool
    /// Secret values are redacted in `check-config` and never logged.
    public var secret: Bool
    /// One line for the configuration reference.
    public var summary: String
    /// Whole keys that earlier releases used for this setting (e.g. `verify.host`); still accepted, and
    /// read as this key.
    public var aliases: [String]

    public init(
        _ name: String, _ kind: Kind, default defaultValue: String? = nil, required: Bool = false,
        secret: Bool = false, aliases: [String] = [], summary: String
    ) {
        self.name = name
        self.aliases = aliases
        self.kind = kind
        self.defaultValue = defaultValue
        self.required = required
        self.secret = secret
        self.summary = summary
    }

    /// The words a boolean key accepts, in any case.
    public static let trueWords: Set<String> = ["true", "yes", "on", "1"]
    public static let falseWords: Set<String> = ["false", "no", "off", "0"]

    public static func isBoolean(_ text: String) -> Bool {
        trueWords.contains(text.lowercased()) || falseWords.contains(text.lowercased())
    }

    public static func isTrue(_ text: String) -> Bool { trueWords.contains(text.lowercased()) }

    /// Checks `value` against `kind`; returns a message saying what a valid value looks like, or nil.
    public func problem(with value: String) -> String? {
        switch kind {
        case .string:
            return nil
        case .integer(let range):
            guard let number = Int(value), range.contains(number) else {
                return "'\(value)' is not a whole number from \(range.lowerBound) to \(range.upperBound)"
            }
            return nil
        case .duration:
            return DurationParser.seconds(value) == nil
                ? "'\(value)' is not a duration; write e.g. 30s, 10m, 24h or 7d" : nil
        case .choice(let options):
            return options.contains(value)
                ? nil : "'\(value)' is not one of \(options.joined(separator: ", "))"
        case .boolean:
            return Self.isBoolean(value) ? nil : "'\(value)' is not true or false"
        case .address:
            return HTTPAddress(value) == nil
                ? "'\(value)' is not address:port, e.g. 0.0.0.0:9187 or 127.0.0.1:9187" : nil
        case .size(let range):
            guard let bytes = SizeParser.bytes(value), range.contains(bytes) else {
                let (lowest, highest) = (SizeParser.text(range.lowerBound), SizeParser.text(range.upperBound))
                return "'\(value)' is not a size from \(lowest) to \(highest); write e.g. 16MiB"
            }
            return nil
        }
    }
}
