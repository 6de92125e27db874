import AsyncHTTPClient
import Crypto
import Engine
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// What an S3 request failed with: the HTTP status and S3's error code and message, or the transport error.
/// Never holds a signature, a key or a secret: S3's `Message` is a fixed sentence per code.
struct S3Failure: Error, CustomStringConvertible {
    var operation: String
    var status: Int?
    var code: String?
    var message: String?
    var transport: String?
    /// A redirect's `Location`, and the bucket's region as S3 names it (`x-amz-bucket-region`).
    var location: String?
    var bucketRegion: String?
    /// The server's clock, its `Date` header (RequestTimeTooSkewed).
    var serverDate: String?
    /// The transport failed because the server's TLS certificate is not trusted.
    var untrustedCertificate = false

    var description: String {
        if let transport { return "\(operation) failed: \(transport)" }
        let detail = [code, message].compactMap { $0 }.joined(separator: ": ")
        return "\(operation) failed: HTTP \(status ?? 0)" + (detail.isEmpty ? "" : " \(detail)")
    }

    /// Worth another try: the network, a timeout, the server's own trouble, or being asked to slow down.
    /// Not a certificate nobody trusts, nor a clock that is off: another try meets the same.
    var isTransient: Bool {
        if transport != nil { return !untrustedCertificate }
        guard let status else { return false }
        if [500, 502, 503, 504, 429, 408].contains(status) { return true }
        return ["SlowDown", "RequestTimeout", "InternalError"].contains(code ?? "")
    }

    /// The engine's error for people: not found, or a destination failure naming the fix where one is known.
    var backupError: BackupError {
        switch code {
        case "NoSuchKey": return BackupError(.notFound, "\(description)")
        case "NoSuchBucket": return BackupError(.destination, "\(description); create the bucket or fix s3.bucket")
        case "InvalidAccessKeyId", "SignatureDoesNotMatch":
            return BackupError(.destination, "\(description); check the S3 access key and secret (s3.access_key_id, s3.secret_access_key or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
        case "AccessDenied":
            return BackupError(.destination, "\(description); the credentials may not write to this bucket and prefix; check the IAM policy")
        case "RequestTimeTooSkewed":
            let now = Date().formatted(.iso8601)
            return BackupError(.destination, "\(description); this machine's clock differs from the server's by more than S3 allows (server: \(serverDate ?? "no Date header"), here: \(now)); check its time synchronisation (NTP; in Kubernetes, the node's clock)")
        default:
            if status == 404 { return BackupError(.notFound, "\(description)") }
            if untrustedCertificate {
                return BackupError(.destination, "\(description); the server's TLS certificate is not signed by a CA this machine trusts: for a private endpoint, set s3.ca_file to the PEM file of the CA that signs it; else check s3.endpoint")
            }
            if let bucketRegion {
                return BackupError(.destination, "\(description); the bucket is in region \(bucketRegion) (x-amz-bucket-region): set s3.region = \(bucketRegion), and s3.endpoint to that region's if it is set")
            }
            if let location {
                return BackupError(.destination, "\(description); the store sends this request to \(location): set s3.endpoint (and s3.region) to the bucket's")
            }
            return BackupError(.destination, "\(description)")
        }
    }
}

/// Signs and sends S3 requests with retries. One per destination; the HTTP client is shared per settings.
struct S3Client: Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var xml: S3XML? { S3XML.parse(body) }
    }

    let endpoint: S3Endpoint
    let credentials: S3CredentialProvider
    let http: HTTPClient
    let retry: RetryPolicy
    /// Extra headers for every PUT and CreateMultipartUpload (storage class, server-side encryption).
    let writeHeaders: [(String, String)]

    /// `s3://bucket/prefix/name`, for people.
    func location(_ key: String) -> String { "s3://\(endpoint.bucket)/\(key)" }

    /// Sends one request, again after transient failures, until `accept` takes its status.
    func send(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: ByteBuffer? = nil, hashes known: (sha256: String, md5: String)? = nil, operation: String,
        accept: (Int) -> Bool = { (200..<300).contains($0) }
    ) async throws -> Response {
        let hashes = known ?? body.map(Self.hashes)
        return try await retry.run(operation) {
            var request = try await prepare(method, key: key, query: query, headers: headers,
                                            payloadHash: hashes?.sha256 ?? SigV4.emptyPayloadHash, contentMD5: hashes?.md5)
            if let body { request.body = .bytes(body) }
            let response = try await transport(operation) { try await http.execute(request, deadline: .distantFuture) }
            let bytes = try await transport(operation) { try await response.body.collect(upTo: 64 << 20) }
            let result = Response(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes))
            // CompleteMultipartUpload (a POST) can answer 200 with an error in the body.
            if accept(result.status), !(method == .POST && result.status == 200 && result.xml?.name == "Error") { return result }
            throw Self.failure(operation, result)
        }
    }

    /// `send`, its final failure as the engine's error (not found, or a destination failure naming the fix).
    @discardableResult
    func call(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: ByteBuffer? = nil, operation: String, accept: @escaping (Int) -> Bool = { (200..<300).contains($0) }
    ) async throws -> Response {
        do {
            return try await send(method, key: key, query: query, headers: headers, body: body, operation: operation, accept: accept)
        } catch let failure as S3Failure {
            throw failure.backupError
        }
    }

    /// Runs one network step; a failure other than cancellation becomes a transient `S3Failure`.
    func transport<T>(_ operation: String, _ step: () async throws -> T) async throws -> T {
        do {
            return try await step()
        } catch is CancellationError {
            throw CancellationError()
        } catch let failure as S3Failure {
            throw failure
        } catch {
            throw S3Failure(operation: operation, transport: "\(error)",
                            untrustedCertificate: Self.isUntrustedCertificate(error))
        }
    }

    /// A TLS handshake that failed verifying the server's certificate or its name.
    static func isUntrustedCertificate(_ error: any Error) -> Bool {
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname { return true }
        guard case .handshakeFailed(let reason)? = error as? NIOSSLError else { return false }
        return "\(reason)".contains("CERTIFICATE_VERIFY_FAILED")
    }

    /// Opens a GET whose body the caller reads; one try (the caller resumes a broken read itself).
    func open(key: String, from offset: Int64, ifMatch etag: String?, operation: String) async throws -> HTTPClientResponse {
        var headers: [(String, String)] = []
        if offset > 0 { headers.append(("range", "bytes=\(offset)-")) }
        if let etag { headers.append(("if-match", etag)) }
        let request = try await prepare(.GET, key: key, query: [], headers: headers, payloadHash: SigV4.emptyPayloadHash, contentMD5: nil)
        let response = try await transport(operation) { try await http.execute(request, deadline: .distantFuture) }
        guard (200..<300).contains(Int(response.status.code)) else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array(buffer: $0) } ?? []
            throw Self.failure(operation, Response(status: Int(response.status.code), headers: response.headers, body: body))
        }
        return response
    }

    private func prepare(
        _ method: HTTPMethod, key: String?, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, contentMD5: String?
    ) async throws -> HTTPClientRequest {
        let target = endpoint.target(key: key)
        var own = headers
        if let contentMD5 { own.append(("content-md5", contentMD5)) }
        let signed = SigV4(region: endpoint.region).sign(
            method: method.rawValue, host: target.host, path: target.path, query: query, headers: own,
            payloadHash: payloadHash, credentials: try await credentials.current(), date: Date())
        let queryText = query.isEmpty ? "" : "?" + SigV4.canonicalQuery(query)
        var request = HTTPClientRequest(url: target.base + SigV4.encodePath(target.path) + queryText)
        request.method = method
        request.headers.add(name: "host", value: target.host)
        request.headers.add(name: "user-agent", value: "backup")
        for (name, value) in own + signed { request.headers.add(name: name, value: value) }
        // An empty body still says so (Content-Length: 0), which S3 wants on PUT and POST.
        if method == .PUT || method == .POST { request.body = .bytes(ByteBuffer()) }
        return request
    }

    static func failure(_ operation: String, _ response: Response) -> S3Failure {
        let xml = response.xml
        let error = xml?.name == "Error" ? xml : xml?["Error"]
        var failure = S3Failure(operation: operation, status: response.status, code: error?.value("Code"),
                                message: error?.value("Message").map { String($0.prefix(300)) })
        // Redirects are not followed (a signature is for one host): where to, for the error.
        if [301, 302, 307, 308].contains(response.status) || failure.code == "AuthorizationHeaderMalformed" {
            failure.location = response.headers.first(name: "location").map { String($0.prefix(300)) }
                ?? error?.value("Endpoint").map { String($0.prefix(300)) }
            failure.bucketRegion = response.headers.first(name: "x-amz-bucket-region").map { String($0.prefix(60)) }
        }
        failure.serverDate = response.headers.first(name: "date")
        return failure
    }

    /// The hex SHA-256 that SigV4 signs (S3 checks the body against it) and the base64 MD5 S3 checks too.
    static func hashes(_ body: ByteBuffer) -> (sha256: String, md5: String) {
        body.withUnsafeReadableBytes { bytes in
            (Checksum.hex(SHA256.hash(data: bytes)), Data(Insecure.MD5.hash(data: bytes)).base64EncodedString())
        }
    }
}

/// Retries with exponential backoff and jitter (a random wait between a quarter and all of the backoff),
/// bounded in count, each wait at most `maxDelay`.
struct RetryPolicy: Sendable {
    var attempts: Int
    var baseDelay: Duration = .milliseconds(200)
    var maxDelay: Duration = .seconds(20)

    func run<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch let failure as S3Failure where failure.isTransient && attempt < attempts {
                try await Task.sleep(for: delay(after: attempt))
            }
        }
    }

    func delay(after attempt: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(attempt - 1, 20)))
        let millis = Int64(ceiling.inSeconds * 1000)
        return .milliseconds(Int64.random(in: (millis / 4)...max(millis / 4, millis)))
    }
}
