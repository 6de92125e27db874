import AsyncHTTPClient
import Engine
import Foundation
import NIOCore

/// The credentials that sign requests: fixed keys (config or `AWS_*` variables), or temporary ones from
/// STS `AssumeRoleWithWebIdentity` with the token Kubernetes mounts (EKS's IRSA), renewed before they expire.
actor S3CredentialProvider {
    enum Source: Sendable {
        case fixed(S3Credentials)
        case webIdentity(tokenFile: String, roleARN: String, sessionName: String, stsURL: String)
    }

    private let source: Source
    private let http: HTTPClient
    private var cached: S3Credentials?

    init(_ source: Source, http: HTTPClient) {
        self.source = source
        self.http = http
    }

    func current() async throws -> S3Credentials {
        switch source {
        case .fixed(let credentials):
            return credentials
        case .webIdentity(let tokenFile, let roleARN, let sessionName, let stsURL):
            if let cached, let expiration = cached.expiration, expiration.timeIntervalSinceNow > 300 {
                return cached
            }
            let fresh = try await assume(tokenFile: tokenFile, roleARN: roleARN, sessionName: sessionName,
                                         stsURL: stsURL)
            cached = fresh
            return fresh
        }
    }

    /// One `AssumeRoleWithWebIdentity` call; the token is read anew each time (Kubernetes rotates it).
    private func assume(tokenFile: String, roleARN: String, sessionName: String,
                        stsURL: String) async throws -> S3Credentials {
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines),
              !token.isEmpty
        else {
            throw BackupError(.destination, "cannot read the web identity token \(tokenFile)"
                + " (AWS_WEB_IDENTITY_TOKEN_FILE); check the service account's token mount")
        }
        let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
                    ("RoleSessionName", sessionName), ("WebIdentityToken", token), ("DurationSeconds", "3600")]
        var request = HTTPClientRequest(url: stsURL)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form.map { "\($0.0)=\(SigV4.encode($0.1))" }.joined(separator: "&")))
        let operation = "AssumeRoleWithWebIdentity for \(roleARN)"
        let body: [UInt8]
        let status: Int
        do {
            let response = try await http.execute(request, timeout: .seconds(60))
            status = Int(response.status.code)
            body = Array(buffer: try await response.body.collect(upTo: 1 << 20))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw BackupError(.destination, "\(operation) failed: \(error)")
        }
        let xml = S3XML.parse(body)
        guard status == 200, let found = xml?["AssumeRoleWithWebIdentityResult"]?["Credentials"],
              let id = found.value("AccessKeyId"), let secret = found.value("SecretAccessKey")
        else {
            let error = xml?["Error"] ?? xml
            let code = error?.value("Code") ?? "no credentials in the answer"
            throw BackupError(.destination, "\(operation) failed: HTTP \(status) \(code);"
                + " check AWS_ROLE_ARN and the role's trust policy")
        }
        let expiration = found.date("Expiration")
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: found.value("SessionToken"),
                             expiration: expiration ?? Date().addingTimeInterval(900))
    }
}
