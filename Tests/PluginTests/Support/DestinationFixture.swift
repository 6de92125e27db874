import Engine
import Foundation
import Local
import S3
import TestSupport

/// A destination plugin as the conformance suite (DestinationConformanceTests) needs it. Adding a
/// destination to the suite is one entry in `all`: how to make a fresh, empty one from its factory, a
/// full one, and (where it has locks) how to leave a lock behind as a holder that died would.
struct DestinationFixture: Sendable, CustomStringConvertible {
    /// A made destination and how to remove it.
    struct Made {
        var destination: any Destination
        var cleanUp: @Sendable () -> Void
    }

    var description: String
    /// A fresh, empty destination, made by the plugin's own factory from its settings.
    var make: @Sendable () async throws -> Made
    /// A destination with room for less than 1 MiB; nil for stores that have no size (object storage).
    var makeFull: (@Sendable () async throws -> Made)?
    /// Takes `job`'s lock in `destination` the way another process would, and dies holding it (a killed
    /// process, or a pod whose lease then lapses); returns once the lock may be taken over.
    var dieHoldingLock: @Sendable (_ destination: any Destination, _ job: String) async throws -> Void

    static let all: [DestinationFixture] = [.local, .s3]

    /// Makes the destination from its factory, as a job's config would.
    static func make(_ factory: any DestinationFactory, _ values: [String: String]) throws -> any Destination {
        var settings: [String: String] = [:]
        for key in factory.keys { settings[key.name] = key.defaultValue }
        return try factory.make(PluginSettings(plugin: factory.name, values: settings.merging(values) { $1 }))
    }

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
