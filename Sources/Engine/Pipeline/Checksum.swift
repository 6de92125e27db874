import Crypto
import Foundation

/// The SHA-256 and length of a stored backup as its bytes pass by, and the comparison with its manifest.
public struct Checksum {
    private var hasher = SHA256()
    public private(set) var bytes: Int64 = 0

    public init() {}

    public mutating func update(_ chunk: [UInt8]) {
        hasher.update(data: chunk)
        bytes += Int64(chunk.count)
    }

    /// The digest in lower-case hex, as `sha256sum` prints it. Ends the hashing.
    public func hex() -> String { Self.hex(hasher.finalize()) }

    /// Lower-case hex of any digest or byte sequence.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Throws `.corrupt` naming both sums when what passed by is not what `record`'s manifest says.
    public func check(_ record: BackupRecord) throws {
        let sum = hex()
        guard sum == record.manifest.sha256, bytes == record.manifest.storedBytes else {
            let (expected, expectedBytes) = (record.manifest.sha256, record.manifest.storedBytes)
            throw BackupError(.corrupt,
                "\(record.object.location) is damaged: its SHA-256 is \(sum) (\(bytes) bytes) "
                + "but the manifest says \(expected) (\(expectedBytes) bytes); restore another backup")
        }
    }
}

extension Checksum {
    /// Streams the stored `record` from `destination` to `body`, hashing every chunk as it passes; once
    /// all of it has passed, a SHA-256 or size other than the manifest's throws `.corrupt`. Every reader of
    /// a stored backup (a restore, a verify, a copy, a check) proves it this way.
    public static func streaming(
        _ record: BackupRecord, from destination: any Destination, chunkSize: Int,
        _ body: ([UInt8]) async throws -> Void
    ) async throws {
        var checksum = Checksum()
        try await destination.stream(name: record.name, chunkSize: chunkSize) { chunk in
            checksum.update(chunk)
            try await body(chunk)
        }
        try checksum.check(record)
    }
}
