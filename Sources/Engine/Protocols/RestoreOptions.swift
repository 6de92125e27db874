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
    /// The role map was given for a whole server (`restore --server`): a source role that one database's
    /// backup does not name is passed over there, rather than refused as a mistake.
    public var roleMapAcrossDatabases = false
    /// How many sessions may load the data and build the indexes at once; 1 streams the backup into one
    /// session in one transaction. Above 1 a source that needs a seekable copy of the dump (a custom
    /// archive read from object storage or through stages) decodes it to a file in `scratchDirectory`.
    public var parallelism = 1
    /// True when nobody asked for `parallelism` (it is the default): a source then streams rather than
    /// first write a decoded copy much larger than the stored file (measured slower than streaming).
    public var parallelismIsDefault = false
    /// Where such a copy goes (`restore.scratch_dir`); nil: the system's temporary directory.
    public var scratchDirectory: String?

    public init(
        privilegedRoles: Bool = false, locale: String? = nil, tablespace: String? = nil, roleMap: [String: String] = [:]
    ) {
        self.privilegedRoles = privilegedRoles
        self.locale = locale
        self.tablespace = tablespace
        self.roleMap = roleMap
    }
}
