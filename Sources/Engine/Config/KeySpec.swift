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
            return HTTPAddress(value) == nil ? "'\(value)' is not address:port, e.g. 0.0.0.0:9187 or 127.0.0.1:9187" : nil
        case .size(let range):
            guard let bytes = SizeParser.bytes(value), range.contains(bytes) else {
                return "'\(value)' is not a size from \(SizeParser.text(range.lowerBound)) to \(SizeParser.text(range.upperBound)); write e.g. 16MiB"
            }
            return nil
        }
    }
}

/// Parses durations written as `90`, `90s`, `10m`, `24h`, `7d` or combinations such as `1h30m`.
public enum DurationParser {
    /// The number of seconds `text` stands for, or nil when it is not a duration.
    public static func seconds(_ text: String) -> Double? {
        // Ten years bounds every timer and timeout; beyond that a value is a typo, and would overflow them.
        guard let seconds = unbounded(text), seconds <= 10 * 366 * 86_400 else { return nil }
        return seconds
    }

    private static func unbounded(_ text: String) -> Double? {
        let text = text.trimmingWhitespace()
        if text.isEmpty { return nil }
        // `Double` also reads "inf" and "infinity", which no timer or timeout can use.
        if let plain = Double(text), plain.isFinite, plain >= 0 { return plain }
        var total = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: return nil
            }
            guard let value = Double(number) else { return nil }
            total += value * unit
            number = ""
        }
        return number.isEmpty ? total : nil
    }
}

/// Parses sizes written as `1048576`, `512KiB`, `16MiB`, `5GiB`, `1TiB` (powers of 1024) or `8MB`, `5GB`
/// (powers of 1000); `K`, `M`, `G`, `T` alone are powers of 1024, as Kubernetes' `Ki` and `Mi` are.
public enum SizeParser {
    private static let units: [(String, Int64)] = [
        ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40),
        ("ki", 1 << 10), ("mi", 1 << 20), ("gi", 1 << 30), ("ti", 1 << 40),
        ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("tb", 1_000_000_000_000),
        ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40), ("b", 1),
    ]

    /// The number of bytes `text` stands for, or nil when it is not a size (or above 1 PiB).
    public static func bytes(_ text: String) -> Int64? {
        let text = text.trimmingWhitespace().lowercased()
        let digits = text.prefix { $0.isNumber || $0 == "." }
        let unitText = text.dropFirst(digits.count).trimmingWhitespace()
        guard let number = Double(digits), number >= 0 else { return nil }
        let unit = unitText.isEmpty ? 1 : units.first { $0.0 == unitText }?.1
        guard let unit, number * Double(unit) <= Double(Int64(1) << 50) else { return nil }
        return Int64((number * Double(unit)).rounded())
    }

    /// `16 MiB`, `5 GiB`, `1000 B`: the largest binary unit that divides `bytes`.
    public static func text(_ bytes: Int64) -> String {
        for (name, unit) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= unit && bytes % unit == 0 {
            return "\(bytes / unit) \(name)"
        }
        return "\(bytes) B"
    }
}

/// The validated settings of one plugin in one job, with defaults applied; keys are without the prefix.
public struct PluginSettings: Sendable {
    /// The plugin's config name, for messages.
    public let plugin: String
    private let values: [String: String]

    public init(plugin: String, values: [String: String]) {
        self.plugin = plugin
        self.values = values
    }

    /// The value of `key`, or nil when it is neither set nor has a default.
    public func string(_ key: String) -> String? { values[key] }

    public func integer(_ key: String) -> Int? { values[key].flatMap { Int($0) } }

    public func seconds(_ key: String) -> Double? { values[key].flatMap(DurationParser.seconds) }

    /// The value of a key that is required or has a default in its ``KeySpec``, which the loader always
    /// fills in; so a plugin writes each default once, in its KeySpec. Throws, naming the key, when the
    /// settings were made without it.
    public func string(required key: String) throws -> String {
        guard let value = values[key] else { throw SettingError(key: key, message: "missing") }
        return value
    }

    public func integer(required key: String) throws -> Int {
        guard let value = Int(try string(required: key)) else { throw SettingError(key: key, message: "is not a whole number") }
        return value
    }

    public func seconds(required key: String) throws -> Double {
        guard let value = DurationParser.seconds(try string(required: key)) else { throw SettingError(key: key, message: "is not a duration") }
        return value
    }

    public func bytes(required key: String) throws -> Int64 {
        guard let value = SizeParser.bytes(try string(required: key)) else { throw SettingError(key: key, message: "is not a size") }
        return value
    }

    public func boolean(_ key: String) -> Bool? {
        values[key].map(KeySpec.isTrue)
    }
}
