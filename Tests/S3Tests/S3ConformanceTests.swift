import Engine
import Foundation
import S3
import Testing
import TestSupport

/// `s3` keeps the contract of every destination and of its locks: TestSupport's DestinationConformance and
/// DestinationLockConformance with the fixture below, a bucket on the test run's moto_server. An object store
/// has no size to fill, so it has no full-store check.
@Suite struct S3ConformanceTests {
    static let destination = DestinationConformance(.s3)
    static let locks = DestinationLockConformance(.s3)

    @Test func commitPublishesDataAndSidecar() async throws {
        try await Self.destination.commitPublishesDataAndSidecar()
    }

    @Test func namesThatArePathsAreRefused() async throws {
        try await Self.destination.namesThatArePathsAreRefused()
    }

    @Test func abortLeavesNothing() async throws {
        try await Self.destination.abortLeavesNothing()
    }

    @Test func commitNeverReplacesAnExistingBackup() async throws {
        try await Self.destination.commitNeverReplacesAnExistingBackup()
    }

    @Test func deleteRemovesOneObjectAndToleratesMissing() async throws {
        try await Self.destination.deleteRemovesOneObjectAndToleratesMissing()
    }

    @Test func replaceSwapsASmallObjectWhole() async throws {
        try await Self.destination.replaceSwapsASmallObjectWhole()
    }

    @Test func streamDeliversTheWholeObjectInChunks() async throws {
        try await Self.destination.streamDeliversTheWholeObjectInChunks()
    }

    @Test func readingAMissingObjectIsNotFound() async throws {
        try await Self.destination.readingAMissingObjectIsNotFound()
    }

    @Test func listTakesAPrefix() async throws {
        try await Self.destination.listTakesAPrefix()
    }

    @Test func aHeldLockIsExclusiveAndNamesItsHolder() async throws {
        try await Self.locks.aHeldLockIsExclusiveAndNamesItsHolder()
    }

    @Test func aWaitingLockIsTakenWhenReleased() async throws {
        try await Self.locks.aWaitingLockIsTakenWhenReleased()
    }

    @Test func aDeadHoldersLockIsTakenOverAndNamed() async throws {
        try await Self.locks.aDeadHoldersLockIsTakenOverAndNamed()
    }

    @Test func leftoversOfAKilledUploadAreRemovedAndOnlyThose() async throws {
        try await Self.locks.leftoversOfAKilledUploadAreRemovedAndOnlyThose()
    }
}

extension DestinationFixture {
    /// A fresh bucket on the test run's moto_server, under a prefix (as jobs sharing a bucket use it).
    static let s3 = DestinationFixture(
        description: "s3",
        make: {
            let server = try await MotoServer.shared
            let bucket = try await server.makeBucket("conformance")
            let factory = S3DestinationFactory(environment: server.environment)
            return Made(destination: try make(factory, ["bucket": bucket, "prefix": "team/app/", "part_size": "5MiB"]), cleanUp: {})
        },
        makeFull: nil,
        dieHoldingLock: { destination, job in
            // Another pod wrote its lease with the AWS CLI and died; the lease has run out.
            let server = try await MotoServer.shared
            let s3 = destination as! S3Destination
            let lease = "{\"holder\":\"pod that died\",\"expires\":\(Date().timeIntervalSince1970 - 1)}"
            let file = try Paths.temporaryDirectory("lease") + "/lease.json"
            try lease.write(toFile: file, atomically: true, encoding: .utf8)
            let put = try await server.aws(["s3api", "put-object", "--bucket", s3.bucket, "--key", s3.lockKey(job), "--body", file])
            guard put.status == 0 else { throw TestFailure("put-object failed: \(put.stderr)") }
        })
}
