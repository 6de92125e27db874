import Engine
import Foundation
@testable import S3
import Testing
import TestSupport

/// The parts of the `s3` destination that need no server: signing, part sizes, XML, settings.
@Suite struct S3UnitTests {
    /// AWS's published example "GET Object" (Amazon S3 API reference, "Signature Calculations for the
    /// Authorization Header: Transferring Payload in a Single Chunk"), with its documented signature.
    @Test func signsAWSsPublishedExample() {
        let credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let headers = SigV4(region: "us-east-1").sign(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", query: [],
            headers: [("Range", "bytes=0-9")], payloadHash: SigV4.emptyPayloadHash, credentials: credentials,
            date: Date(timeIntervalSince1970: 1_369_353_600))  // 2013-05-24T00:00:00Z
        let authorization = headers.first { $0.0 == "Authorization" }?.1
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(!headers.contains { $0.1.contains("wJalrXUtnFEMI") }, "the secret is never sent")
    }

    @Test func encodesAsSigV4Requires() {
        #expect(SigV4.encode("a b+c/d~e_f.g-h*") == "a%20b%2Bc%2Fd~e_f.g-h%2A")
        #expect(SigV4.encodePath("/bucket/app_2026.sql.gz") == "/bucket/app_2026.sql.gz")
        #expect(SigV4.canonicalQuery([("uploadId", "x/y="), ("partNumber", "2"), ("b", "")]) == "b=&partNumber=2&uploadId=x%2Fy%3D")
    }

    @Test func partsGrowUnderTheMaximumParts() throws {
        let plan = try PartPlan(partSize: 5 << 20, maxParts: 20, maxSize: 1 << 30)
        #expect(PartPlan.capacity(5 << 20, 20, step: plan.step) >= 1 << 30)
        #expect(PartPlan.capacity(5 << 20, 20, step: plan.step + 1) < 1 << 30, "the slowest growth that suffices")
        var total: Int64 = 0
        var parts = 0
        while total < 300_000_000 { parts += 1; total += plan.size(ofPart: parts) }
        #expect(parts <= 20)
        // The defaults: 10,000 parts from 16 MiB hold 5 TiB, and a 1 GB backup stays in 16 MiB parts.
        let defaults = try PartPlan(partSize: 16 << 20, maxParts: 10_000, maxSize: 5 << 40)
        #expect(PartPlan.capacity(16 << 20, 10_000, step: defaults.step) >= 5 << 40)
        #expect(defaults.size(ofPart: 64) == 16 << 20 && defaults.size(ofPart: 10_000) <= PartPlan.largestPart)
    }

    @Test func aPlanThatCannotHoldTheMaximumNamesTheKeys() {
        #expect { try PartPlan(partSize: 5 << 20, maxParts: 20, maxSize: 5 << 40) } throws: { error in
            let message = (error as? SettingError)?.message ?? ""
            return message.contains("s3.max_parts") && message.contains("s3.part_size") && message.contains("s3.max_size")
        }
    }

    @Test func readsS3sXMLWithEntities() throws {
        let xml = S3XML.parse(Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>true</IsTruncated>
            <Contents><Key>a&amp;b &lt;c&gt; &#233;.sql</Key><Size>12</Size></Contents>
            <Contents><Key>two</Key><Size>3</Size><Owner/></Contents>
            <NextContinuationToken>1/2+3=</NextContinuationToken></ListBucketResult>
            """.utf8))
        let root = try #require(xml)
        #expect(root.name == "ListBucketResult" && root.value("IsTruncated") == "true")
        #expect(root.all("Contents").map { $0.value("Key") } == ["a&b <c> é.sql", "two"])
        #expect(root.value("NextContinuationToken") == "1/2+3=")
        #expect(S3XML.parse(Array("<Error><Code>NoSuchKey".utf8)) == nil)
    }

    /// What scripts/fuzz found, and its kin: an element name with markup or control characters in it is
    /// not XML, and a document nested deeper than any S3 answer is refused before it recurses that deep.
    @Test func malformedNamesAndDeepNestingAreNotXML() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/fuzz").standardizedFileURL
        let found = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasPrefix("s3xml-") }
        #expect(!found.isEmpty)
        for name in found {
            #expect(S3XML.parse(Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))) == nil, "\(name)")
        }
        for text in ["<Assu<Assume>x</Assu<Assume>", "<A\u{0}B>x</A\u{0}B>", "<1Key>x</1Key>", "<>x</>", "<-a>x</-a>"] {
            #expect(S3XML.parse(Array(text.utf8)) == nil, "\(text)")
        }
        #expect(S3XML.parse(Array("<s3:Key-1.x_y>v</s3:Key-1.x_y>".utf8))?.text == "v")
        #expect(S3XML.parse(Array("<Schlüssel>v</Schlüssel>".utf8))?.name == "Schlüssel")
        let deep = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        #expect(S3XML.parse(Array(deep.utf8)) == nil)
        let four = "<a><b><c><d>v</d></c></b></a>"
        #expect(S3XML.parse(Array(four.utf8))?["b"]?["c"]?.value("d") == "v")
    }

    /// A listing ends at the page that says it is complete; a store that never says so is stopped.
    @Test func listingsAreBounded() throws {
        var bound = ListingBound(operation: "ListObjectsV2 s3://b/p/", tokenName: "NextContinuationToken", maxPages: 3)
        #expect(try bound.next(listed: ["p/a"], truncated: true, token: "t1") == "t1")
        #expect(try bound.next(listed: ["p/b"], truncated: true, token: "t2") == "t2")
        #expect(try bound.next(listed: ["p/c"], truncated: false, token: nil) == nil)
        var endless = ListingBound(operation: "ListObjectsV2 s3://b/p/", tokenName: "NextContinuationToken", maxPages: 3)
        _ = try endless.next(listed: [], truncated: true, token: "t1")
        _ = try endless.next(listed: [], truncated: true, token: "t2")
        #expect { _ = try endless.next(listed: [], truncated: true, token: "t3") } throws: {
            "\($0)".contains("ListObjectsV2 s3://b/p/: the store still says there is more after 3 pages")
        }
        var tokenless = ListingBound(operation: "L", tokenName: "NextContinuationToken")
        #expect { _ = try tokenless.next(listed: ["a"], truncated: true, token: nil) } throws: {
            "\($0)".contains("says there is more (IsTruncated) but has no NextContinuationToken")
        }
        var cycle = ListingBound(operation: "L", tokenName: "NextContinuationToken")
        _ = try cycle.next(listed: ["a"], truncated: true, token: "t1")
        _ = try cycle.next(listed: ["b"], truncated: true, token: "t2")
        #expect { _ = try cycle.next(listed: ["c"], truncated: true, token: "t1") } throws: { "\($0)".contains("'t1' again on page 3") }
    }

    /// A certificate nobody trusts and a clock that is off are not the network: another try meets the same.
    @Test func whatAnotherTryCannotMend() {
        #expect(S3Failure(operation: "o", transport: "reset").isTransient)
        #expect(!S3Failure(operation: "o", transport: "handshakeFailed", untrustedCertificate: true).isTransient)
        #expect(S3Failure(operation: "o", status: 503, code: "SlowDown").isTransient)
        #expect(!S3Failure(operation: "o", status: 403, code: "RequestTimeTooSkewed").isTransient)
    }

    @Test func endpointsAndAddressing() throws {
        let aws = try S3Endpoint(url: nil, bucket: "b", region: "eu-west-1", pathStyle: nil)
        #expect(aws.target(key: "p/k").base == "https://b.s3.eu-west-1.amazonaws.com" && aws.target(key: "p/k").path == "/p/k")
        let minio = try S3Endpoint(url: "http://127.0.0.1:9000", bucket: "b", region: "us-east-1", pathStyle: nil)
        #expect(minio.target(key: "k").host == "127.0.0.1:9000" && minio.target(key: "k").path == "/b/k")
        #expect(throws: SettingError.self) { try S3Endpoint(url: "ftp://x", bucket: "b", region: "r", pathStyle: nil) }
    }

    @Test func credentialsComeFromKeysThenVariablesThenWebIdentity() throws {
        let factory = S3DestinationFactory(environment: [:])
        #expect { _ = try DestinationFixture.make(factory, ["bucket": "b"]) } throws: {
            "\($0)".contains("no S3 credentials") && "\($0)".contains("AWS_WEB_IDENTITY_TOKEN_FILE")
        }
        #expect { _ = try DestinationFixture.make(factory, ["bucket": "b", "access_key_id": "AK"]) } throws: {
            ($0 as? SettingError)?.key == "secret_access_key"
        }
        let fromEnvironment = S3DestinationFactory(environment: ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"])
        #expect(throws: Never.self) { _ = try DestinationFixture.make(fromEnvironment, ["bucket": "b"]) }
        let webIdentity = S3DestinationFactory(environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"])
        #expect(throws: Never.self) { _ = try DestinationFixture.make(webIdentity, ["bucket": "b"]) }
    }

    @Test(arguments: [
        ("s3://bucket/pods/app/app_20260101T000000Z.sql.gz", "bucket", "pods/app/", "app_20260101T000000Z.sql.gz"),
        ("s3://bucket/app.sql.gz", "bucket", "", "app.sql.gz"),
    ])
    func resolvesS3URLs(_ location: String, _ bucket: String, _ prefix: String, _ name: String) throws {
        let factory = S3DestinationFactory(environment: ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"])
        var values: [String: String] = [:]
        for key in factory.keys { values[key.name] = key.defaultValue }
        let found = try #require(try factory.resolve(location: location, settings: PluginSettings(plugin: "s3", values: values)))
        let destination = try #require(found.destination as? S3Destination)
        #expect(destination.bucket == bucket && destination.prefix == prefix && found.name == name)
        #expect(try factory.resolve(location: "/var/backups/app.sql.gz", settings: PluginSettings(plugin: "s3", values: values)) == nil)
    }
}
