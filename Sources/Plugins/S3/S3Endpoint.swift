import Engine
import Foundation

/// Where a bucket is: the endpoint, the region that signs, and path-style or virtual-host addressing.
struct S3Endpoint: Sendable {
    var scheme: String
    var host: String
    var port: Int?
    var bucket: String
    var region: String
    var pathStyle: Bool

    /// AWS's endpoint for `region` when `url` is nil. Throws naming the key when `url` is not http(s).
    init(url: String?, bucket: String, region: String, pathStyle: Bool?) throws {
        let text = url ?? "https://s3.\(region).amazonaws.com"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty,
              components.path.isEmpty || components.path == "/"
        else {
            throw SettingError(key: "endpoint", message: "'\(text)' is not an http:// or https:// URL without a path")
        }
        self.scheme = scheme
        self.host = host
        self.port = components.port
        self.bucket = bucket
        self.region = region
        // A bucket with dots is not a valid host name under TLS wildcards; custom endpoints (MinIO, Ceph)
        // are path-style unless told otherwise.
        self.pathStyle = pathStyle ?? (url != nil || bucket.contains("."))
    }

    /// The scheme and authority to send to, the `Host` header, and the path (not yet encoded) of `key`.
    func target(key: String?) -> (base: String, host: String, path: String) {
        let authority = pathStyle ? host : "\(bucket).\(host)"
        let hostHeader = port.map { authority + ":\($0)" } ?? authority
        let path = pathStyle ? "/\(bucket)/" + (key ?? "") : "/" + (key ?? "")
        return ("\(scheme)://\(hostHeader)", hostHeader, path)
    }
}
