/// What a source learned while dumping, taken in the same snapshot as the dump; recorded with the backup.
public struct DumpDetails: Sendable {
    /// Exact rows per table (`schema.table`), nil when the source did not count them.
    public var rowCounts: [String: Int64]?
    /// Small files stored beside the backup as `<backup><suffix>`, e.g. what a restore needs besides the
    /// dump itself. Listed in the manifest (with size and SHA-256) so retention deletes them with the backup
    /// and a restore checks them. A suffix is `.<word>.json`, the word lower-case letters (not `manifest`):
    /// any other name in a stored manifest is taken for damage and never read.
    public var sidecars: [(suffix: String, bytes: [UInt8])]

    public init(rowCounts: [String: Int64]? = nil, sidecars: [(suffix: String, bytes: [UInt8])] = []) {
        self.rowCounts = rowCounts
        self.sidecars = sidecars
    }
}
