import Foundation

/// Credentials that sign requests. `description` never shows the secret or the token.
struct S3Credentials: Sendable, CustomStringConvertible {
    var accessKeyID: String
    var secretAccessKey: String
    var sessionToken: String?
    /// When temporary credentials (web identity) stop working; nil for long-lived keys.
    var expiration: Date?

    var description: String { "access key \(accessKeyID.prefix(4))…" }
}
