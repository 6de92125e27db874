/// What a source learned about the database before dumping it; recorded in the manifest.
public struct SourceInfo: Sendable {
    public var database: String
    public var serverVersion: String
    public var dumpToolVersion: String
    /// The path of the tool that will make the dump.
    public var dumpTool: String
    /// The dump format's name, e.g. `plain` or `custom`.
    public var format: String
    /// The file extension of the uncompressed dump, e.g. `sql` or `dump`.
    public var fileExtension: String
    /// A rough size of the uncompressed dump, for progress; nil when unknown.
    public var estimatedBytes: Int64?
    /// Advice for the operator about how this job is set up (`backup check` shows it), e.g. that a format
    /// restores slowly at this size; nil when there is none.
    public var advice: String?

    public init(
        database: String, serverVersion: String, dumpToolVersion: String, dumpTool: String, format: String,
        fileExtension: String, estimatedBytes: Int64?
    ) {
        self.database = database
        self.serverVersion = serverVersion
        self.dumpToolVersion = dumpToolVersion
        self.dumpTool = dumpTool
        self.format = format
        self.fileExtension = fileExtension
        self.estimatedBytes = estimatedBytes
    }
}
