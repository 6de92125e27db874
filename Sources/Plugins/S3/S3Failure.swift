import Engine
import Foundation

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
            return BackupError(.destination, "\(description); check the S3 access key and secret"
                + " (s3.access_key_id, s3.secret_access_key or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
        case "AccessDenied":
            return BackupError(.destination, "\(description);"
                + " the credentials may not write to this bucket and prefix; check the IAM policy")
        case "RequestTimeTooSkewed":
            let now = Date().formatted(.iso8601)
            let clocks = "server: \(serverDate ?? "no Date header"), here: \(now)"
            return BackupError(.destination, "\(description); this machine's clock differs from the server's"
                + " by more than S3 allows (\(clocks));"
                + " check its time synchronisation (NTP; in Kubernetes, the node's clock)")
        default:
            if status == 404 { return BackupError(.notFound, "\(description)") }
            if untrustedCertificate {
                return BackupError(.destination, "\(description); the server's TLS certificate is not signed by a CA"
                    + " this machine trusts: for a private endpoint,"
                    + " set s3.ca_file to the PEM file of the CA that signs it; else check s3.endpoint")
            }
            if let bucketRegion {
                return BackupError(.destination, "\(description); the bucket is in region \(bucketRegion)"
                    + " (x-amz-bucket-region): set s3.region = \(bucketRegion),"
                    + " and s3.endpoint to that region's if it is set")
            }
            if let location {
                return BackupError(.destination, "\(description); the store sends this request to \(location):"
                    + " set s3.endpoint (and s3.region) to the bucket's")
            }
            return BackupError(.destination, "\(description)")
        }
    }
}
