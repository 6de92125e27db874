import Foundation
import Testing
import TestSupport

/// The job's lease in the bucket when the answer to a lock write is lost (the connection breaks after the
/// store took the write): the retry finds the lease this run wrote, so the run never calls itself "already
/// running", and no later run is locked out.
@Suite struct S3LockFaultTests {
    /// A job `app` through `proxy`, whose pg_dump waits `dumpSeconds` first (so renewals happen meanwhile).
    static func job(_ label: String, proxy: FaultProxy, extra: String = "", dumpSeconds: Int = 0) async throws -> (BackupCLI, String) {
        let moto = try await MotoServer.shared
        try await PostgresServer.shared.makeSampleDatabase("s3_\(label)", rows: 20)
        let bucket = try await moto.makeBucket(label)
        let cli = try await S3DestinationTests.cli(label, database: "s3_\(label)", bucket: bucket, extra: extra,
                                        environment: ["AWS_ENDPOINT_URL": proxy.endpoint])
        if dumpSeconds > 0 {
            let wrapper = try FakePgDump.write(in: cli.directory, body: "sleep \(dumpSeconds)\nexec /usr/bin/pg_dump \"$@\"")
            try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "\npostgres.pg_dump = \(wrapper)\n")
                .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        }
        return (cli, bucket)
    }

    /// Requests for the lease object, in order: `PUT … reset-response`.
    static func lockRequests(_ proxy: FaultProxy, label: String) -> [String] {
        proxy.log.split(separator: "\n").map(String.init).filter { $0.contains("/pods/\(label)/.app.lock") }
    }

    @Test func aLostAnswerToTakingTheLockIsRecognised() async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        let (cli, bucket) = try await Self.job("lockput", proxy: proxy)
        defer { cli.cleanUp() }
        try proxy.plan([["method": "PUT", "path": ".app.lock", "fault": "reset-response", "times": 1]])
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        let requests = Self.lockRequests(proxy, label: "lockput")
        #expect(requests.first?.hasPrefix("PUT ") == true && requests.first?.hasSuffix(" reset-response") == true, "\(proxy.log)")
        #expect(!(try await moto.keys(bucket).contains("pods/lockput/.app.lock")), "released")
        #expect(try await cli.run("now").status == 0, "and the next run is not locked out")
    }

    /// A renewal (lock.lease = 6s: every 2 s, while pg_dump waits 5 s) whose answer is lost.
    @Test func aLostAnswerToARenewalIsRecognised() async throws {
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        let (cli, _) = try await Self.job("lockrenew", proxy: proxy, extra: "lock.lease = 6s", dumpSeconds: 5)
        defer { cli.cleanUp() }
        try proxy.plan([
            ["method": "PUT", "path": ".app.lock", "fault": "forward", "times": 1],
            ["method": "PUT", "path": ".app.lock", "fault": "reset-response", "times": 1],
        ])
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        let puts = Self.lockRequests(proxy, label: "lockrenew").filter { $0.hasPrefix("PUT ") }
        #expect(puts.count >= 3 && puts[1].hasSuffix(" reset-response"), "taken, a renewal lost, renewed again: \(proxy.log)")
        #expect(try await cli.run("now").status == 0)
    }

    @Test func aLostAnswerToReleasingTheLockLocksNothingOut() async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        let (cli, bucket) = try await Self.job("lockdelete", proxy: proxy)
        defer { cli.cleanUp() }
        try proxy.plan([["method": "DELETE", "path": ".app.lock", "fault": "reset-response", "times": 1]])
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        #expect(Self.lockRequests(proxy, label: "lockdelete").contains { $0.hasPrefix("DELETE ") && $0.hasSuffix(" reset-response") },
                "\(proxy.log)")
        #expect(!(try await moto.keys(bucket).contains("pods/lockdelete/.app.lock")), "released")
        let next = try await cli.run("now")
        #expect(next.status == 0 && !next.stderr.contains("took over"), "\(next.stderr)")
    }
}
