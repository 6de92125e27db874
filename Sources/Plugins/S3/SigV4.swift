import Crypto
import Engine
import Foundation

/// AWS Signature Version 4 for S3 (and STS), written against the published algorithm: no maintained AWS
/// SDK is available to this project, and the algorithm is small (a canonical request, a string to sign
/// and an HMAC-SHA-256 chain). https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
struct SigV4 {
    var region: String
    var service = "s3"

    /// The headers to add to a request (`Authorization`, `x-amz-date`, `x-amz-content-sha256` and, with a
    /// session token, `x-amz-security-token`). `headers` are the request's own headers that are signed too
    /// (lower-case names); `host` is the `Host` header as sent (with a port when it is not the default).
    func sign(
        method: String, host: String, path: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, credentials: S3Credentials, date: Date
    ) -> [(String, String)] {
        let (amzDate, day) = Self.timestamps(date)
        var signed: [(String, String)] = headers.map { ($0.0.lowercased(), Self.trimmed($0.1)) }
        signed.append(("host", host))
        signed.append(("x-amz-date", amzDate))
        signed.append(("x-amz-content-sha256", payloadHash))
        if let token = credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        signed.sort { $0.0 < $1.0 }
        let signedNames = signed.map(\.0).joined(separator: ";")
        let canonical = [
            method,
            Self.encodePath(path),
            Self.canonicalQuery(query),
            signed.map { "\($0.0):\($0.1)\n" }.joined(),
            signedNames,
            payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Checksum.hex(SHA256.hash(data: Data(canonical.utf8)))]
            .joined(separator: "\n")
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Checksum.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope),"
            + " SignedHeaders=\(signedNames), Signature=\(signature)"
        var result = [
            ("Authorization", authorization),
            ("x-amz-date", amzDate),
            ("x-amz-content-sha256", payloadHash),
        ]
        if let token = credentials.sessionToken { result.append(("x-amz-security-token", token)) }
        return result
    }

    /// The SHA-256 of an empty body, which GET, HEAD and DELETE sign.
    static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// `20261204T180000Z` and `20261204`, in UTC.
    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let year: Int = Int(parts.tm_year) + 1900
        let month: Int = Int(parts.tm_mon) + 1
        let day = String(format: "%04d%02d%02d", year, month, Int(parts.tm_mday))
        let time = String(format: "T%02d%02d%02dZ", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return (day + time, day)
    }

    /// Query parameters sorted by name, then value, each name and value encoded.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (encode($0.0), encode($0.1)) }
        let sorted = encoded.sorted { (a, b) -> Bool in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { $0.name + "=" + $0.value }.joined(separator: "&")
    }

    /// Every byte but the unreserved `A-Z a-z 0-9 - _ . ~` as `%XX`; `/` too unless `keepSlash`.
    static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out += "/"
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func encodePath(_ path: String) -> String { encode(path, keepSlash: true) }

    /// Header values are signed with surrounding spaces removed and inner runs of spaces made one.
    private static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
