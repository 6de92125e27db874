/// What a restore is asked to do: which backup, where to, and the files stored with the backup.
public struct RestoreRequest: Sendable {
    public var manifest: Manifest
    public var mode: RestoreMode
    public var options: RestoreOptions
    /// The backup's sidecar files, by name.
    public var sidecars: [String: [UInt8]]
    /// A local path holding exactly the dump's bytes (no stage changed them), so a restore tool may read it
    /// directly and seek in it; nil otherwise.
    public var localDumpFile: String?

    public init(
        manifest: Manifest, mode: RestoreMode, options: RestoreOptions = RestoreOptions(), sidecars: [String: [UInt8]],
        localDumpFile: String? = nil
    ) {
        self.manifest = manifest
        self.mode = mode
        self.options = options
        self.sidecars = sidecars
        self.localDumpFile = localDumpFile
    }
}
