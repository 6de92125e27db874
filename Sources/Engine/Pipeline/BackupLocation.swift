/// Where one stored backup is: which of the job's destinations holds it, and the backup as stored there.
public struct BackupLocation: Sendable {
    /// The destination's name in the job (`a`, `b@eu`), or `location` for a file given by path.
    public var target: String
    public var destination: any Destination
    public var record: BackupRecord

    public init(target: String, destination: any Destination, record: BackupRecord) {
        self.target = target
        self.destination = destination
        self.record = record
    }

    public var name: String { record.name }
}
