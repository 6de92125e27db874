import Engine
import Foundation
import Testing

/// The contract every `Destination` keeps (see its "Implementation requirements"): publishing, reading,
/// listing, deleting, a full store; the locks are DestinationLockConformance. Each destination's test target
/// runs every check with its own fixture, one `@Test` of the same name each (LocalTests'
/// `LocalConformanceTests`), as each restic back-end instantiates the shared `internal/backend/test` suite.
package struct DestinationConformance: Sendable {
    package let fixture: DestinationFixture

    package init(_ fixture: DestinationFixture) { self.fixture = fixture }

    func make() async throws -> (destination: any Destination, cleanUp: @Sendable () -> Void) {
        let made = try await fixture.make()
        return (made.destination, made.cleanUp)
    }

    static let payload = Array((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })

    package func commitPublishesDataAndSidecar() async throws {
        let (destination, cleanUp) = try await make()
        defer { cleanUp() }
        try await destination.checkWritable()
        let upload = try await destination.begin(name: "job_20260101T000000Z.sql")
        try await upload.write(Array(Self.payload.prefix(100_000)))
        try await upload.write(Array(Self.payload.dropFirst(100_000)))
        #expect(try await destination.list().isEmpty, "nothing is visible before commit")
        let object = try await upload.commit(sidecars: [("job_20260101T000000Z.sql.manifest.json", Array("{}".utf8))])
        #expect(object.name == "job_20260101T000000Z.sql" && object.bytes == Int64(Self.payload.count))
        #expect(try await destination.list().map(\.name) == ["job_20260101T000000Z.sql", "job_20260101T000000Z.sql.manifest.json"])
        #expect(try await destination.read(name: "job_20260101T000000Z.sql") == Self.payload)
        #expect(try await destination.read(name: "job_20260101T000000Z.sql.manifest.json") == Array("{}".utf8))
    }

    /// A name is one object of the destination's own area, whatever a caller was told by a stored file:
    /// a path (`../x`, `a/../../x`) is refused before anything is read, written or deleted.
    package func namesThatArePathsAreRefused() async throws {
        let (destination, cleanUp) = try await make()
        defer { cleanUp() }
        for name in ["../victim.txt", "a/../../victim.txt", "..", ".", ""] {
            await #expect(throws: BackupError.self, "read \(name)") { try await destination.read(name: name) }
            await #expect(throws: BackupError.self, "delete \(name)") { try await destination.delete(name: name) }
            await #expect(throws: BackupError.self, "replace \(name)") { try await destination.replace(name: name, bytes: [1]) }
            await #expect(throws: BackupError.self, "begin \(name)") { try await destination.begin(name: name) }
        }
        let upload = try await destination.begin(name: "job_20260101T000000Z.sql")
        try await upload.write([1, 2, 3])
        await #expect(throws: BackupError.self) { try await upload.commit(sidecars: [("../escaped.json", [1])]) }
        await upload.abort()
        #expect(try await destination.list().isEmpty)
    }

    package func abortLeavesNothing() async throws {
        let (destination, cleanUp) = try await make()
        defer { cleanUp() }
        let upload = try await destination.begin(name: "job_20260101T000000Z.sql")
        try await upload.write(Self.payload)
        await upload.abort()
        #expect(try await destination.list().isEmpty)
        if let locking = (destination as? any LockingDestination) {
            #expect(try await locking.removeLeftovers(job: "job").isEmpty, "abort left a partial upload")
        }
    }

    package func commitNeverReplacesAnExistingBackup() async throws {
        let (destination, cleanUp) = try await make()
        defer { cleanUp() }
        let first = try await destination.begin(name: "job_20260101T000000Z.sql")
        try await first.write([1, 2, 3])
        _ = try await first.commit(sidecars: [])
        let second = try await destination.begin(name: "job_20260101T000000Z.sql")
        try await second.write([9, 9, 9, 9])
        await #expect(throws: BackupError.self) { _ = try await second.commit(sidecars: []) }
        await second.abort()
        #expect(try await destination.read(name: "job_20260101T000000Z.sql") == [1, 2, 3])
        #expect(try await destination.list().count == 1)
    }

    package func deleteRemovesOneObjectAndToleratesMissing() async throws {
        let (destination, cleanUp) = try await make()
        defer { cleanUp() }
        for name in ["a_20260101T000000Z.sql", "b_20260101T000000Z.sql"] {
            let upload = try await destination.begin(name: name)
            try await upload.write([7])
            _ = try await upload.commit(sidecars: [])
        }
        try await destination.delete(name: "a_20260101T000000Z.sql")
        try await destination.delete(name: "a_20260101T000000Z.sql")
        #expect(try await destination.list().map(\.name) == ["b_20260101T000000Z.sql"])
    }

    package func replaceSwapsASmallObjectWhole() async throws {
        let (destination, cleanUp) = try await make()
        defer { cleanUp() }
        try await destination.replace(name: "m.json", bytes: Array("first".utf8))
        try await destination.replace(name: "m.json", bytes: Array("second, longer".utf8))
        #expect(try await destination.read(name: "m.json") == Array("second, longer".utf8))
        #expect(try await destination.list().map(\.name) == ["m.json"])
    }

    package func streamDeliversTheWholeObjectInChunks() async throws {
        let (destination, cleanUp) = try await make()
        defer { cleanUp() }
        let upload = try await destination.begin(name: "s_20260101T000000Z.sql")
        try await upload.write(Self.payload)
        _ = try await upload.commit(sidecars: [])
        var chunks: [[UInt8]] = []
        try await destination.stream(name: "s_20260101T000000Z.sql", chunkSize: 65_536) { chunks.append($0) }
        #expect(chunks.allSatisfy { $0.count <= 65_536 } && chunks.count >= 5)
        #expect(Array(chunks.joined()) == Self.payload)
        await #expect { try await destination.stream(name: "nothing", chunkSize: 10) { _ in } } throws: {
            ($0 as? BackupError)?.code == .notFound
        }
    }

    package func readingAMissingObjectIsNotFound() async throws {
        let (destination, cleanUp) = try await make()
        defer { cleanUp() }
        await #expect { _ = try await destination.read(name: "nothing") } throws: { ($0 as? BackupError)?.code == .notFound }
    }

    package func listTakesAPrefix() async throws {
        let (destination, cleanUp) = try await make()
        defer { cleanUp() }
        for name in ["app_20260101T000000Z.sql", "app_x_20260101T000000Z.sql", "other_20260101T000000Z.sql"] {
            let upload = try await destination.begin(name: name)
            try await upload.write([1])
            _ = try await upload.commit(sidecars: [(name + ".manifest.json", [2])])
        }
        #expect(try await destination.list(prefix: "app_").map(\.name) == [
            "app_20260101T000000Z.sql", "app_20260101T000000Z.sql.manifest.json",
            "app_x_20260101T000000Z.sql", "app_x_20260101T000000Z.sql.manifest.json",
        ])
        #expect(try await destination.list(prefix: "other_").count == 2)
        #expect(try await destination.list(prefix: "nobody_").isEmpty)
        #expect(try await destination.list().count == 6)
    }

    /// A store that fills up fails the write as `.destinationFull`, and the aborted upload leaves nothing.
    package func aFullStoreFailsTheWriteAndKeepsNothing() async throws {
        let makeFull = try #require(fixture.makeFull, "\(fixture) makes no full store")
        let made = try await makeFull()
        defer { made.cleanUp() }
        let upload = try await made.destination.begin(name: "job_20260101T000000Z.sql")
        await #expect {
            for _ in 0..<8 { try await upload.write(Array(repeating: 0x41, count: 256 << 10)) }
            _ = try await upload.commit(sidecars: [])
        } throws: { ($0 as? BackupError)?.code == .destinationFull }
        await upload.abort()
        #expect(try await made.destination.list().isEmpty)
    }
}
