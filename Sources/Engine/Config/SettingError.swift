/// A plugin's complaint about one of its settings, raised from `make`; the loader adds `file:line`.
public struct SettingError: Error, Sendable {
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
}
