import Foundation

/// What is written beside every backup as `<backup>.manifest.json`: enough to check and restore it without
/// asking the database or the engine's configuration.
///
/// Version 2 records the chain of stages (`stages`) and the dump tool under a neutral name
/// (`dump_tool_version`); version 1 manifests (`compressor`, `compression_level`, and the tool's version)
/// are still read, as a chain of one compressor.
public struct Manifest: Codable, Sendable, Equatable {
    public static let currentVersion = 2
    /// Bumped when fields change meaning.
    public var manifestVersion: Int = Manifest.currentVersion
    public var job: String
    public var file: String
    public var database: String
    public var serverVersion: String
    public var dumpToolVersion: String
    public var format: String
    /// The stages the dump went through, in the order applied; a restore undoes them in reverse.
    public var stages: [StageRecord]
    public var rawBytes: Int64
    public var storedBytes: Int64
    public var sha256: String
    public var startedAt: Date
    public var finishedAt: Date
    /// Exact rows per table, taken in the dump's snapshot; what `verify` compares a restore against.
    public var rowCounts: [String: Int64]?
    /// Names of the other files that belong to this backup (besides the data and this manifest).
    public var sidecars: [String]?
    /// Size and SHA-256 of each sidecar, checked before a sidecar is used; nil in manifests written
    /// before this was recorded (their sidecars are still read, by name checks and strict parsing alone).
    public var sidecarChecksums: [String: SidecarChecksum]?
    /// Set by `verify = after-backup` and by `backup verify`: `passed`, or `failed: <why>` (the backup is
    /// kept, marked unverified).
    public var verification: String?
    /// When that verification ran; nil in manifests written before this was recorded.
    public var verifiedAt: Date?
    /// For a database of a whole-server job: the file name of the server's own backup (its roles) made by
    /// the same run, which `restore --server` restores the run's databases with; nil for any other backup.
    public var serverRun: String?
    /// The program and release that wrote the backup, e.g. `backup 0.1.0 (commit 1a2b3c4d5e6f)`; nil in
    /// manifests written before this was recorded. Read by people, never acted on.
    public var writtenBy: String?

    public init(
        job: String, file: String, database: String, serverVersion: String, dumpToolVersion: String, format: String,
        stages: [StageRecord], rawBytes: Int64, storedBytes: Int64, sha256: String,
        startedAt: Date, finishedAt: Date, rowCounts: [String: Int64]? = nil, sidecars: [String]? = nil,
        sidecarChecksums: [String: SidecarChecksum]? = nil, verification: String? = nil
    ) {
        self.job = job
        self.file = file
        self.database = database
        self.serverVersion = serverVersion
        self.dumpToolVersion = dumpToolVersion
        self.format = format
        self.stages = stages
        self.rawBytes = rawBytes
        self.storedBytes = storedBytes
        self.sha256 = sha256
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.rowCounts = rowCounts
        self.sidecars = sidecars
        self.sidecarChecksums = sidecarChecksums
        self.verification = verification
    }

    /// The chain as people read it: the stages' names joined by `+`.
    public var chain: String { stages.map(\.name).joined(separator: "+") }

    enum CodingKeys: String, CodingKey {
        case manifestVersion = "manifest_version"
        case job, file, database
        case serverVersion = "server_version"
        case dumpToolVersion = "dump_tool_version"
        case format, stages
        case rawBytes = "raw_bytes"
        case storedBytes = "stored_bytes"
        case sha256
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case rowCounts = "row_counts"
        case sidecars
        case sidecarChecksums = "sidecar_checksums"
        case verification
        case verifiedAt = "verified_at"
        case serverRun = "server_run"
        case writtenBy = "written_by"
    }

    /// Version 1's names for what version 2 calls `stages`; its dump tool's version was under
    /// `<tool>_version`, the one `_version` key besides `manifest_version` and `server_version`.
    private struct VersionOneKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }

        static let compressor = VersionOneKey(stringValue: "compressor")
        static let compressionLevel = VersionOneKey(stringValue: "compression_level")
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let old = try decoder.container(keyedBy: VersionOneKey.self)
        manifestVersion = try c.decode(Int.self, forKey: .manifestVersion)
        guard manifestVersion <= Self.currentVersion else {
            throw DecodingError.dataCorruptedError(forKey: .manifestVersion, in: c, debugDescription:
                "manifest version \(manifestVersion) is newer than this release reads (\(Self.currentVersion)); "
                + "upgrade backup")
        }
        job = try c.decode(String.self, forKey: .job)
        file = try c.decode(String.self, forKey: .file)
        database = try c.decode(String.self, forKey: .database)
        serverVersion = try c.decode(String.self, forKey: .serverVersion)
        if manifestVersion >= 2 {
            dumpToolVersion = try c.decode(String.self, forKey: .dumpToolVersion)
        } else if let version = try c.decodeIfPresent(String.self, forKey: .dumpToolVersion) {
            dumpToolVersion = version
        } else {
            let named = old.allKeys.filter {
                $0.stringValue.hasSuffix("_version") && !["manifest_version", "server_version"].contains($0.stringValue)
            }
            guard named.count == 1 else {
                throw DecodingError.keyNotFound(CodingKeys.dumpToolVersion, .init(codingPath: decoder.codingPath,
                    debugDescription: "no dump_tool_version, nor one <tool>_version of a version 1 manifest"))
            }
            dumpToolVersion = try old.decode(String.self, forKey: named[0])
        }
        format = try c.decode(String.self, forKey: .format)
        if manifestVersion >= 2 {
            stages = try c.decode([StageRecord].self, forKey: .stages)
        } else if let stages = try c.decodeIfPresent([StageRecord].self, forKey: .stages) {
            self.stages = stages
        } else {
            stages = [StageRecord(kind: PluginKind.compressor.rawValue,
                                  name: try old.decode(String.self, forKey: .compressor),
                                  level: try old.decodeIfPresent(Int.self, forKey: .compressionLevel))]
        }
        rawBytes = try c.decode(Int64.self, forKey: .rawBytes)
        storedBytes = try c.decode(Int64.self, forKey: .storedBytes)
        sha256 = try c.decode(String.self, forKey: .sha256)
        startedAt = try c.decode(Date.self, forKey: .startedAt)
        finishedAt = try c.decode(Date.self, forKey: .finishedAt)
        rowCounts = try c.decodeIfPresent([String: Int64].self, forKey: .rowCounts)
        sidecars = try c.decodeIfPresent([String].self, forKey: .sidecars)
        sidecarChecksums = try c.decodeIfPresent([String: SidecarChecksum].self, forKey: .sidecarChecksums)
        verification = try c.decodeIfPresent(String.self, forKey: .verification)
        verifiedAt = try c.decodeIfPresent(Date.self, forKey: .verifiedAt)
        serverRun = try c.decodeIfPresent(String.self, forKey: .serverRun)
        writtenBy = try c.decodeIfPresent(String.self, forKey: .writtenBy)
    }

    public static let suffix = ".manifest.json"
    /// The most a manifest may be: far beyond the row counts of any real database, but a bound, so a
    /// planted endless file cannot fill memory.
    public static let maximumBytes = 32 << 20

    /// What is wrong with the names this manifest gives, read for the backup stored as `name` of `job`:
    /// nil when `file` is that name and every sidecar has the shape the engine writes for it
    /// (`<name>.<word>.json`), each once and each with a checksum where checksums are recorded. Nothing a
    /// manifest names is read, copied or deleted unless this holds, so a stored file cannot point the
    /// engine outside the backup (`../secret`, `/dev/zero`, another backup's files).
    public func nameProblem(job: String, name: String) -> String? {
        guard self.job == job, file == name else {
            return "the manifest of \(name) names job \(self.job.debugDescription.prefix(120)), "
                + "file \(file.debugDescription.prefix(120))"
        }
        let listed = sidecars ?? []
        for sidecar in listed where !JobName.isSidecar(sidecar, of: name) {
            return "the manifest of \(name) lists a sidecar \(sidecar.debugDescription.prefix(120)), "
                + "which is not a name this tool writes (\(name).<word>.json); the backup is damaged or not ours"
        }
        guard Set(listed).count == listed.count else { return "the manifest of \(name) lists a sidecar twice" }
        if let sidecarChecksums, Set(sidecarChecksums.keys) != Set(listed) {
            return "the manifest of \(name) has checksums for other sidecars than it lists"
        }
        return nil
    }

    /// The manifest as JSON in this release's format: a version 1 manifest read and written again (a
    /// verification recorded in it) becomes version 2, as its fields now are.
    public func encoded() throws -> [UInt8] {
        var current = self
        current.manifestVersion = Self.currentVersion
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.iso8601(date))
        }
        return Array(try encoder.encode(current)) + [0x0A]
    }

    public static func decode(_ bytes: [UInt8]) throws -> Manifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            // Only the form `encoded()` writes: a fraction of a second, say, would not survive the manifest
            // being written again (found by scripts/fuzz).
            guard let date = Timestamp.parseISO8601(text), Timestamp.iso8601(date) == text else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                    "not a time as backup writes it (ISO 8601 in UTC, whole seconds): \(text)"))
            }
            return date
        }
        return try decoder.decode(Manifest.self, from: Data(bytes))
    }
}
