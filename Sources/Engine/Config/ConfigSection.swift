/// A `[name]` section of a configuration file: one job.
public struct ConfigSection: Sendable, Equatable {
    public var name: String
    public var line: Int
    public var entries: [ConfigEntry]
}
