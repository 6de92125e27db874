import Logging

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

/// What a person allows a restore to recreate differently from the source, for a target server that
/// cannot or should not have everything the source had.
public struct RestoreOptions: Sendable, Equatable {
    /// Give the roles a restore creates the attributes that reach beyond one database (a superuser, a
    /// replication role, a role that bypasses row security) where the source's roles had them. Off by
    /// default: a restore never creates a role more powerful than it must.
    public var privilegedRoles: Bool
    /// Create the database with this locale, the target's default provider, instead of the source's
    /// locale and provider.
    public var locale: String?
    /// Create the database in this tablespace instead of the source database's.
    public var tablespace: String?
    /// Source role name to an existing role of the target: the target gets the source role's objects,
    /// grants and memberships, and the source role is not created.
    public var roleMap: [String: String]

    public init(privilegedRoles: Bool = false, locale: String? = nil, tablespace: String? = nil, roleMap: [String: String] = [:]) {
        self.privilegedRoles = privilegedRoles
        self.locale = locale
        self.tablespace = tablespace
        self.roleMap = roleMap
    }
}

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

/// What a restore did.
public struct RestoreReport: Sendable {
    /// The database that now holds the restored data (for `.scratch`, the one that held it).
    public var database: String
    /// Exact rows per table (`schema.table`) in the restored database.
    public var rowCounts: [String: Int64]
    /// For an in-place restore that kept the original: the name it was renamed to.
    public var previousDatabase: String?
    /// Roles that did not exist and were created.
    public var createdRoles: [String]

    public init(database: String, rowCounts: [String: Int64], previousDatabase: String? = nil, createdRoles: [String] = []) {
        self.database = database
        self.rowCounts = rowCounts
        self.previousDatabase = previousDatabase
        self.createdRoles = createdRoles
    }
}

/// Hands the decompressed dump to a restore, chunk by chunk, into the sink it is given.
public typealias DumpFeed = (_ sink: ([UInt8]) async throws -> Void) async throws -> Void

/// A source that can also put a backup back.
///
/// Implementation requirements:
/// - `describe` returns, without changing anything, the steps `restore` would take, for people to read.
/// - `restore` never changes an existing database unless the mode says so, and leaves nothing it created
///   behind when it fails (including on cancellation), roles included: a failed in-place restore leaves
///   the original as it was, and a `.scratch` restore leaves nothing at all in every case.
/// - It consumes the dump only through `feed`, streaming; it never needs disk space for an uncompressed copy.
public protocol RestorableSource: Source {
    func describe(_ request: RestoreRequest) async throws -> [String]
    func restore(_ request: RestoreRequest, logger: Logger, feed: DumpFeed) async throws -> RestoreReport
}
