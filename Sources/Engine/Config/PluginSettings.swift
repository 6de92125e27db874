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
        guard let value = Int(try string(required: key)) else {
            throw SettingError(key: key, message: "is not a whole number")
        }
        return value
    }

    public func seconds(required key: String) throws -> Double {
        guard let value = DurationParser.seconds(try string(required: key)) else {
            throw SettingError(key: key, message: "is not a duration")
        }
        return value
    }

    public func bytes(required key: String) throws -> Int64 {
        guard let value = SizeParser.bytes(try string(required: key)) else {
            throw SettingError(key: key, message: "is not a size")
        }
        return value
    }

    public func boolean(_ key: String) -> Bool? {
        values[key].map(KeySpec.isTrue)
    }
}
