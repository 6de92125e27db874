import Engine
import Foundation
import Local
import Testing
import TestSupport

/// What someone who can write the volume plants there is read only if it is a regular file (the commands
/// that read planted manifests and sidecars end to end: EndToEndTests' StoredFileTests).
@Suite struct LocalStoredFileTests {
    /// A FIFO planted under a backup's name on the volume is not waited on or read. (Names that are paths
    /// are refused by every destination: DestinationConformance.)
    @Test func theVolumeReadsOnlyRegularFiles() async throws {
        let directory = try Paths.temporaryDirectory("stored-fifo")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let volume = LocalDestination(path: directory)
        let fifo = "app_20261206T000000Z.sql.gz.manifest.json"
        #expect(mkfifo("\(directory)/\(fifo)", 0o600) == 0)
        await #expect(throws: BackupError.self) { try await volume.read(name: fifo, limit: 1 << 20) }
    }
}
