/// One place a job stores its backups: a destination plugin instance and the retention applied there.
public struct JobDestination: Sendable {
    /// As the configuration names it: the plugin (`b`) or a labelled instance of it (`b@eu`).
    public var name: String
    public var destination: any Destination
    public var retention: any RetentionPolicy

    public init(name: String, destination: any Destination, retention: any RetentionPolicy) {
        self.name = name
        self.destination = destination
        self.retention = retention
    }
}
