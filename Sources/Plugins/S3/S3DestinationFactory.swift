import Engine
import Foundation

/// `s3`: a bucket on AWS S3 or an S3-compatible store (MinIO, Ceph RGW, Cloudflare R2, Backblaze B2…).
public struct S3DestinationFactory: DestinationFactory {
    public let name = "s3"
    public let summary = "a bucket on AWS S3 or an S3-compatible object store"
    public let keys = [
        KeySpec("bucket", .string, summary: "bucket that holds the backups (required)"),
        KeySpec("prefix", .string, default: "",
                summary: "folder in the bucket, e.g. backups/app/ (jobs and pods may share a bucket)"),
        KeySpec("endpoint", .string,
                summary: "URL of a store other than AWS, e.g. https://minio.example:9000"
                    + " (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS's for the region)"),
        KeySpec("region", .string,
                summary: "region that signs requests (default: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1)"),
        KeySpec("path_style", .boolean,
                summary: "address the bucket as ENDPOINT/BUCKET (default: yes with an endpoint, no on AWS)"),
        KeySpec("access_key_id", .string, summary: "access key (default: $AWS_ACCESS_KEY_ID, else web identity)"),
        KeySpec("secret_access_key", .string, secret: true, summary: "its secret (prefer s3.secret_access_key_file)"),
        KeySpec("session_token", .string, secret: true, summary: "session token of temporary credentials"),
        KeySpec("storage_class", .string, summary: "e.g. STANDARD_IA or GLACIER_IR (default: the bucket's)"),
        KeySpec("sse", .choice(["none", "AES256", "aws:kms"]), default: "none", summary: "server-side encryption"),
        KeySpec("sse_kms_key_id", .string, summary: "KMS key for sse = aws:kms (default: the account's S3 key)"),
        KeySpec("ca_file", .string, summary: "PEM file of CAs that sign a private endpoint's certificate"),
        KeySpec("part_size", .size(5 << 20 ... 5 << 30), default: "16MiB",
                summary: "size of the first upload parts; later parts grow"),
        KeySpec("max_parts", .integer(1...10_000), default: "10000",
                summary: "parts per object the store allows (1000 on some providers)"),
        KeySpec("max_size", .size(1 << 20 ... 5 << 40), default: "5TiB",
                summary: "largest backup the part sizes must hold"),
        KeySpec("concurrency", .integer(1...64), default: "4",
                summary: "parts in flight; memory is about concurrency × part size"),
        KeySpec("request_timeout", .duration, default: "60s",
                summary: "how long a request may send or receive nothing before it is retried"),
        KeySpec("retries", .integer(0...20), default: "5", summary: "tries after a failed request, with growing waits"),
        KeySpec("lock", .choice(["lease", "none"]), default: "lease",
                summary: "lease: a lock object written with If-None-Match;"
                    + " none: for stores without conditional writes"),
    ]

    /// The process's environment; tests and callers may pass their own.
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func make(_ settings: PluginSettings) throws -> any Destination {
        guard let bucket = settings.string("bucket"), !bucket.isEmpty else {
            throw SettingError(key: "bucket", message: "is missing; name the bucket that holds the backups")
        }
        return try make(settings, bucket: bucket, prefix: try settings.string(required: "prefix"))
    }

    /// `s3://bucket/prefix/name`, with the job's endpoint, region and credentials.
    public func resolve(location: String,
                        settings: PluginSettings) throws -> (destination: any Destination, name: String)? {
        guard location.hasPrefix("s3://") else { return nil }
        let path = location.dropFirst(5)
        guard let slash = path.firstIndex(of: "/"), slash != path.startIndex, path.last != "/" else {
            throw BackupError(.config, "'\(location)' is not s3://BUCKET/KEY")
        }
        let key = path[path.index(after: slash)...]
        let name = key.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? String(key)
        let destination = try make(settings, bucket: String(path[..<slash]),
                                   prefix: String(key.dropLast(name.count)))
        return (destination, name)
    }

    private func make(_ settings: PluginSettings, bucket: String, prefix rawPrefix: String) throws -> S3Destination {
        let region = settings.string("region") ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1"
        // An empty endpoint (a template's parameter left out) means the default.
        let configured = settings.string("endpoint").flatMap { $0.isEmpty ? nil : $0 }
        let endpoint = try S3Endpoint(url: configured ?? env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL"),
                                      bucket: bucket, region: region, pathStyle: settings.boolean("path_style"))
        let timeout = Duration.seconds(try settings.seconds(required: "request_timeout"))
        let http = try S3HTTPClients.client(caFile: settings.string("ca_file"), timeout: timeout)
        let credentials = S3CredentialProvider(try credentialSource(settings, region: region), http: http)
        var writeHeaders: [(String, String)] = []
        if let storageClass = settings.string("storage_class") {
            writeHeaders.append(("x-amz-storage-class", storageClass))
        }
        let sse = try settings.string(required: "sse")
        if sse != "none" { writeHeaders.append(("x-amz-server-side-encryption", sse)) }
        if let kmsKey = settings.string("sse_kms_key_id") {
            guard sse == "aws:kms" else {
                throw SettingError(key: "sse_kms_key_id", message: "needs s3.sse = aws:kms")
            }
            writeHeaders.append(("x-amz-server-side-encryption-aws-kms-key-id", kmsKey))
        }
        var prefix = String(rawPrefix.drop { $0 == "/" })
        if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
        let client = S3Client(endpoint: endpoint, credentials: credentials, http: http,
                              retry: RetryPolicy(attempts: try settings.integer(required: "retries") + 1),
                              writeHeaders: writeHeaders)
        let plan = try PartPlan(partSize: try settings.bytes(required: "part_size"),
                                maxParts: try settings.integer(required: "max_parts"),
                                maxSize: try settings.bytes(required: "max_size"))
        return S3Destination(client: client, prefix: prefix, plan: plan,
                             concurrency: try settings.integer(required: "concurrency"),
                             locking: try settings.string(required: "lock") == "lease")
    }

    /// Config keys, else the standard variables, else a web identity (EKS's IRSA).
    private func credentialSource(_ settings: PluginSettings, region: String) throws -> S3CredentialProvider.Source {
        switch (settings.string("access_key_id"), settings.string("secret_access_key")) {
        case let (id?, secret?):
            let token = settings.string("session_token").flatMap { $0.isEmpty ? nil : $0 }
            return .fixed(S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token))
        case (_?, nil):
            throw SettingError(key: "secret_access_key",
                               message: "is missing; s3.access_key_id needs its secret (s3.secret_access_key_file)")
        case (nil, _?):
            throw SettingError(key: "access_key_id",
                               message: "is missing; s3.secret_access_key needs its access key id")
        case (nil, nil):
            break
        }
        if let id = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") {
            return .fixed(S3Credentials(accessKeyID: id, secretAccessKey: secret,
                                        sessionToken: env("AWS_SESSION_TOKEN")))
        }
        if let tokenFile = env("AWS_WEB_IDENTITY_TOKEN_FILE"), let role = env("AWS_ROLE_ARN") {
            let sts = env("AWS_ENDPOINT_URL_STS") ?? env("AWS_ENDPOINT_URL") ?? "https://sts.\(region).amazonaws.com"
            return .webIdentity(tokenFile: tokenFile, roleARN: role,
                                sessionName: env("AWS_ROLE_SESSION_NAME") ?? "backup", stsURL: sts)
        }
        throw SettingError(key: "access_key_id", message: "no S3 credentials:"
            + " set s3.access_key_id and s3.secret_access_key_file, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
            + " or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN")
    }

    private func env(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}
