import AsyncHTTPClient
import Crypto
import Engine
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

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
                                            payloadHash: hashes?.sha256 ?? SigV4.emptyPayloadHash,
                                            contentMD5: hashes?.md5)
            if let body { request.body = .bytes(body) }
            let response = try await transport(operation) { try await http.execute(request, deadline: .distantFuture) }
            let bytes = try await transport(operation) { try await response.body.collect(upTo: 64 << 20) }
            let result = Response(status: Int(response.status.code), headers: response.headers,
                                  body: Array(buffer: bytes))
            // CompleteMultipartUpload (a POST) can answer 200 with an error in the body.
            if accept(result.status), !(method == .POST && result.status == 200 && result.xml?.name == "Error") {
                return result
            }
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
            return try await send(method, key: key, query: query, headers: headers, body: body,
                                  operation: operation, accept: accept)
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
    func open(key: String, from offset: Int64, ifMatch etag: String?,
              operation: String) async throws -> HTTPClientResponse {
        var headers: [(String, String)] = []
        if offset > 0 { headers.append(("range", "bytes=\(offset)-")) }
        if let etag { headers.append(("if-match", etag)) }
        let request = try await prepare(.GET, key: key, query: [], headers: headers,
                                        payloadHash: SigV4.emptyPayloadHash, contentMD5: nil)
        let response = try await transport(operation) { try await http.execute(request, deadline: .distantFuture) }
        guard (200..<300).contains(Int(response.status.code)) else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array(buffer: $0) } ?? []
            throw Self.failure(operation, Response(status: Int(response.status.code), headers: response.headers,
                                                   body: body))
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
