import Engine
import Foundation
import S3
import Testing

/// Answers a store gives rarely, made by the fault proxy in front of moto_server: a listing that never
/// ends. It fails within a bound with an error that says what happened.
@Suite struct S3AnswerTests {
    /// How the store keeps a listing going: the same continuation token each time, or a new one.
    static let endlessListings: [(label: String, token: String?, says: String)] = [
        ("sametoken", "same-token", "sent NextContinuationToken 'same-token' again on page 2"),
        ("newtoken", nil, "endless-list-key' again, as page 1 did"),
    ]

    @Test(arguments: endlessListings)
    func aListingThatNeverEndsFailsNamingWhatTheStoreDid(_ listing: (label: String, token: String?, says: String)) async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        try await PostgresServer.shared.makeSampleDatabase("s3_\(listing.label)", rows: 10)
        let bucket = try await moto.makeBucket(listing.label)
        let cli = try await S3Tests.cli(listing.label, database: "s3_\(listing.label)", bucket: bucket,
                                        environment: ["AWS_ENDPOINT_URL": proxy.endpoint])
        defer { cli.cleanUp() }
        var rule: [String: Any] = ["method": "GET", "query": "list-type", "fault": "endless-list", "times": -1]
        if let token = listing.token { rule["token"] = token }
        try proxy.plan([rule])
        let clock = ContinuousClock()
        let start = clock.now
        let listed = try await cli.run("list")
        // The bound only tells an end from the endless loop (which ran 1,300 requests a minute).
        #expect(clock.now - start < .seconds(60))
        #expect(listed.status != 0, "\(listed.stdout)")
        #expect(listed.stderr.contains("ListObjectsV2 s3://\(bucket)/pods/\(listing.label)/") && listed.stderr.contains(listing.says)
                && listed.stderr.contains("the listing would never end"), "\(listed.stderr)")
        let requests = proxy.log.split(separator: "\n").filter { $0.hasSuffix(" endless-list") }
        #expect(!requests.isEmpty && requests.count <= 4, "\(proxy.log)")
    }

    /// The listing of uploads in progress that `backup now` removes leftovers from is bounded the same way.
    @Test func aListingOfUploadsThatNeverEndsFailsTheBackup() async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        try await PostgresServer.shared.makeSampleDatabase("s3_endless_uploads", rows: 10)
        let bucket = try await moto.makeBucket("endless-uploads")
        let cli = try await S3Tests.cli("uploads", database: "s3_endless_uploads", bucket: bucket,
                                        environment: ["AWS_ENDPOINT_URL": proxy.endpoint])
        defer { cli.cleanUp() }
        try proxy.plan([["method": "GET", "query": "uploads", "fault": "endless-list", "times": -1]])
        let made = try await cli.run("now")
        #expect(made.status != 0)
        #expect(made.stderr.contains("ListMultipartUploads s3://\(bucket)/pods/uploads/app_") && made.stderr.contains("again, as page 1 did"),
                "\(made.stderr)")
        #expect(proxy.log.split(separator: "\n").filter { $0.hasSuffix(" endless-list") }.count <= 4, "\(proxy.log)")
        #expect(try await moto.keys(bucket).isEmpty, "no backup, and the lock released")
    }
}
