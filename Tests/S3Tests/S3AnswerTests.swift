import Engine
import Foundation
import S3
import Testing
import TestSupport

/// Answers a store gives rarely, made by the fault proxy in front of moto_server: a listing that never
/// ends, a clock that is off, a redirect to another region, a certificate nobody trusts. Each fails at once
/// (or within a bound) with an error that says what happened and what to set.
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
        let cli = try await S3DestinationTests.cli(listing.label, database: "s3_\(listing.label)", bucket: bucket,
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
        #expect(listed.status == 1, "\(listed.stdout)")
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
        let cli = try await S3DestinationTests.cli("uploads", database: "s3_endless_uploads", bucket: bucket,
                                        environment: ["AWS_ENDPOINT_URL": proxy.endpoint])
        defer { cli.cleanUp() }
        try proxy.plan([["method": "GET", "query": "uploads", "fault": "endless-list", "times": -1]])
        let made = try await cli.run("now")
        #expect(made.status == 1, "\(made.stderr)")
        #expect(made.stderr.contains("ListMultipartUploads s3://\(bucket)/pods/uploads/app_") && made.stderr.contains("again, as page 1 did"),
                "\(made.stderr)")
        #expect(proxy.log.split(separator: "\n").filter { $0.hasSuffix(" endless-list") }.count <= 4, "\(proxy.log)")
        #expect(try await moto.keys(bucket).isEmpty, "no backup, and the lock released")
    }

    /// RequestTimeTooSkewed is the machine's clock, not the network: not retried, and named as such.
    @Test func aSkewedClockIsNamedAndNotRetried() async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        let bucket = try await moto.makeBucket("skew")
        let destination = try await S3FaultTests.destination(proxy, bucket: bucket)
        try proxy.plan([["method": "PUT", "fault": "answer", "status": 403, "code": "RequestTimeTooSkewed", "times": -1]])
        await #expect {
            try await destination.replace(name: "skew.json", bytes: [1])
        } throws: { error in
            let text = "\(error)"
            return text.contains("RequestTimeTooSkewed") && text.contains("clock differs from the server's") && text.contains("NTP")
        }
        #expect(proxy.log.split(separator: "\n").filter { $0.hasPrefix("PUT ") }.count == 1, "one try: \(proxy.log)")
    }

    /// S3 answers a request for a bucket in another region with a redirect, which is not followed (the
    /// signature is for one host): the error names the region, or where the store sends the request.
    static let redirects: [(status: Int, code: String, headers: [String: String], says: String)] = [
        (301, "PermanentRedirect", ["x-amz-bucket-region": "eu-west-1"], "set s3.region = eu-west-1"),
        (307, "TemporaryRedirect", ["Location": "https://b.s3.eu-west-1.amazonaws.com/x"],
         "sends this request to https://b.s3.eu-west-1.amazonaws.com/x: set s3.endpoint"),
    ]

    @Test(arguments: redirects)
    func aRedirectNamesTheRegionOrTheEndpoint(_ redirect: (status: Int, code: String, headers: [String: String], says: String)) async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy()
        defer { proxy.stop() }
        let bucket = try await moto.makeBucket("redirect")
        let destination = try await S3FaultTests.destination(proxy, bucket: bucket)
        try proxy.plan([["method": "GET", "query": "list-type", "fault": "answer", "status": redirect.status, "code": redirect.code,
                         "headers": redirect.headers, "times": -1]])
        await #expect { _ = try await destination.list() } throws: { error in
            "\(error)".contains("HTTP \(redirect.status) \(redirect.code)") && "\(error)".contains(redirect.says)
        }
    }

    /// A private endpoint whose certificate no CA of the machine signs: the error says to set s3.ca_file,
    /// at once rather than after the retries; with s3.ca_file set to its CA, the same endpoint works.
    @Test func anUntrustedCertificateSuggestsTheCAFileWhichThenWorks() async throws {
        let moto = try await MotoServer.shared
        let proxy = try await FaultProxy(tls: true)
        defer { proxy.stop() }
        let bucket = try await moto.makeBucket("tls")
        let untrusted = try await S3FaultTests.destination(proxy, bucket: bucket, extra: ["retries": "5"])
        let clock = ContinuousClock()
        let start = clock.now
        await #expect { _ = try await untrusted.list() } throws: { error in
            "\(error)".contains("CERTIFICATE_VERIFY_FAILED") && "\(error)".contains("set s3.ca_file")
        }
        // One try: the client retries the handshake for its 10 s connect timeout; 5 retries would take 50 s more.
        #expect(clock.now - start < .seconds(45))
        let trusted = try await S3FaultTests.destination(proxy, bucket: bucket, extra: ["ca_file": proxy.certificate])
        try await trusted.replace(name: "tls.json", bytes: Array("{}".utf8))
        #expect(try await trusted.list().map(\.name) == ["tls.json"])
    }
}
