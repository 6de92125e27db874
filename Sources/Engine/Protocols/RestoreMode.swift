/// Where a restore goes.
public enum RestoreMode: Sendable, Equatable {
    /// A new database with this name; an existing one is an error unless `replace`.
    case newDatabase(String, replace: Bool)
    /// Beside the original, then swapped in by name once the restore succeeded; the original is kept
    /// (renamed) unless `dropPrevious`. Other sessions on the original are an error unless `terminate`.
    case inPlace(terminate: Bool, dropPrevious: Bool)
    /// A throwaway database for `verify`, dropped afterwards whatever happens, on the server the source's
    /// own settings name for verification (by default its own).
    case scratch

    public var isScratch: Bool {
        if case .scratch = self { return true }
        return false
    }
}
