import Foundation

extension BackupRecord {
    /// The most a sidecar may be (a database's roles and properties are kilobytes).
    public static let sidecarLimit = 64 << 20

    /// Each sidecar the manifest lists, read from `destination` and checked before anyone uses it: its
    /// name has the shape the engine writes for this backup, it is no larger than recorded, and where the
    /// manifest records a size and SHA-256 (every manifest since they were added), they match.
    public func readSidecars(from destination: any Destination) async throws -> [(name: String, bytes: [UInt8])] {
        if let problem = manifest.nameProblem(job: manifest.job, name: name) { throw BackupError(.corrupt, problem) }
        var sidecars: [(name: String, bytes: [UInt8])] = []
        for sidecar in manifest.sidecars ?? [] {
            let expected = manifest.sidecarChecksums?[sidecar]
            let limit = min(expected.map { Int(clamping: max(0, $0.bytes)) } ?? Self.sidecarLimit, Self.sidecarLimit)
            let bytes: [UInt8]
            do {
                bytes = try await destination.read(name: sidecar, limit: limit)
            } catch let error as BackupError where error.code == .corrupt {
                throw BackupError(.corrupt, "\(sidecar), a sidecar of \(name), is damaged: \(error.message); "
                                  + "restore another backup")
            }
            if let expected {
                let found = SidecarChecksum(of: bytes)
                guard found == expected else {
                    throw BackupError(.corrupt, "\(sidecar), a sidecar of \(name), is damaged: "
                        + "its SHA-256 is \(found.sha256) (\(found.bytes) bytes) "
                        + "but the manifest says \(expected.sha256) (\(expected.bytes) bytes); restore another backup")
                }
            }
            sidecars.append((sidecar, bytes))
        }
        return sidecars
    }
}
