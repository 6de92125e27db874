import Engine

/// `count`: keeps the newest `count.keep` backups of a job, as the original container's NUM_BACKUPS did.
public struct CountRetentionFactory: RetentionPolicyFactory {
    public init() {}
    public let name = "count"
    public let summary = "keep the newest N backups"
    public let keys = [KeySpec("keep", .integer(1...100_000), default: "31", summary: "how many backups to keep")]

    public func make(_ settings: PluginSettings) throws -> any RetentionPolicy {
        CountRetention(keep: try settings.integer(required: "keep"))
    }
}
