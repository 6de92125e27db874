import Engine
import Foundation
import Local
import Testing
import TestSupport

/// `local` keeps the contract of every destination and of its locks: TestSupport's DestinationConformance
/// and DestinationLockConformance with the fixture below, a directory (a 1 MiB tmpfs for the full store).
@Suite struct LocalConformanceTests {
    static let destination = DestinationConformance(.local)
    static let locks = DestinationLockConformance(.local)

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

    @Test func aFullStoreFailsTheWriteAndKeepsNothing() async throws {
        try await Self.destination.aFullStoreFailsTheWriteAndKeepsNothing()
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
    static let local = DestinationFixture(
        description: "local",
        make: {
            let directory = try Paths.temporaryDirectory("dest")
            return Made(destination: try make(LocalDestinationFactory(), ["path": directory]),
                        cleanUp: { try? FileManager.default.removeItem(atPath: directory) })
        },
        makeFull: {
            let directory = try Paths.temporaryDirectory("dest-full")
            guard try await Shell.sh("mount -t tmpfs -o size=1m tmpfs '\(directory)'").status == 0 else {
                throw TestFailure("mounting a 1 MiB tmpfs needs root")
            }
            return Made(destination: try make(LocalDestinationFactory(), ["path": directory]), cleanUp: {
                _ = system("umount '\(directory)'")
                try? FileManager.default.removeItem(atPath: directory)
            })
        },
        dieHoldingLock: { destination, job in
            // Another process flocks the lock file, writes its pid as a holder does, and is killed.
            let path = "\((destination as! LocalDestination).path)/.\(job).lock"
            let held = "\(path).held"
            let result = try await Shell.sh("""
                ( exec 9>>'\(path)'; flock -n 9 || exit 1; echo "pid of a holder that was killed" >&9; touch '\(held)'; exec sleep 60 ) & holder=$!
                for i in $(seq 1 600); do [ -e '\(held)' ] && break; sleep 0.1; done
                rm -f '\(held)'; kill -9 $holder; wait $holder 2>/dev/null; exit 0
                """)
            guard result.status == 0 else { throw TestFailure("the other holder did not run: \(result.stderr)") }
        })
}

