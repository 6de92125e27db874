import Foundation

/// What is written beside every backup as `<backup>.manifest.json`: enough to check and restore it without
/// asking the database or the engine's configuration.
public struct Manifest: Codable, Sendable, Equatable {
    /// Bumped when fields change meaning.
    public var manifestVersion: Int = 1
    public var job: String
    public var file: String
    public var database: String
    public var serverVersion: String
    public var dumpToolVersion: String
    public var format: String
    public var compressor: String
    public var compressionLevel: Int?
    public var rawBytes: Int64
    public var storedBytes: Int64
    public var sha256: String
    public var startedAt: Date
    public var finishedAt: Date
    /// Exact rows per table, taken in the dump's snapshot; what `verify` compares a restore against.
    public var rowCounts: [String: Int64]?
    /// Names of the other files that belong to this backup (besides the data and this manifest).
    public var sidecars: [String]?
    /// Set by `verify = after-backup`: `passed`, or `failed: <why>` (the backup is kept, marked unverified).
    public var verification: String?

    public init(
        job: String, file: String, database: String, serverVersion: String, dumpToolVersion: String, format: String,
        compressor: String, compressionLevel: Int?, rawBytes: Int64, storedBytes: Int64, sha256: String,
        startedAt: Date, finishedAt: Date, rowCounts: [String: Int64]? = nil, sidecars: [String]? = nil,
        verification: String? = nil
    ) {
        self.job = job
        self.file = file
        self.database = database
        self.serverVersion = serverVersion
        self.dumpToolVersion = dumpToolVersion
        self.format = format
        self.compressor = compressor
        self.compressionLevel = compressionLevel
        self.rawBytes = rawBytes
        self.storedBytes = storedBytes
        self.sha256 = sha256
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.rowCounts = rowCounts
        self.sidecars = sidecars
        self.verification = verification
    }

    enum CodingKeys: String, CodingKey {
        case manifestVersion = "manifest_version"
        case job, file, database
        case serverVersion = "server_version"
        case dumpToolVersion = "pg_dump_version"
        case format, compressor
        case compressionLevel = "compression_level"
        case rawBytes = "raw_bytes"
        case storedBytes = "stored_bytes"
        case sha256
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case rowCounts = "row_counts"
        case sidecars, verification
    }

    public static let suffix = ".manifest.json"

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.iso8601(date))
        }
        return Array(try encoder.encode(self)) + [0x0A]
    }

    public static func decode(_ bytes: [UInt8]) throws -> Manifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = Timestamp.parseISO8601(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                        debugDescription: "not an ISO 8601 time: \(text)"))
            }
            return date
        }
        return try decoder.decode(Manifest.self, from: Data(bytes))
    }
}

/// A backup the engine made, as found at a destination: its data object and its manifest.
public struct BackupRecord: Sendable, Equatable {
    public var object: StoredObject
    public var manifest: Manifest

    public init(object: StoredObject, manifest: Manifest) {
        self.object = object
        self.manifest = manifest
    }

    public var name: String { object.name }
    public var created: Date { manifest.startedAt }
}
