import Foundation

/// One real S3-compatible server (moto_server, by `scripts/moto-sandbox`) for the whole test run, on a free
/// loopback port, with request signing enforced; stopped when the test process exits. The AWS CLI is the
/// independent client that checks what we wrote.
package final class MotoServer: Sendable {
    // Sendable: every stored property is an immutable value.
    package let directory: String
    package let port: Int
    package let accessKeyID: String
    package let secretAccessKey: String
    /// The venv's bin directory, with `aws`.
    package let tools: String

    package var endpoint: String { "http://127.0.0.1:\(port)" }

    private static let starting = Task { try await MotoServer(signing: true) }
    private static let startingUnsigned = Task { try await MotoServer(signing: false) }

    package static var shared: MotoServer {
        get async throws { try await starting.value }
    }

    /// A second server that checks no signature: moto cannot answer an unsigned STS call (web identity)
    /// while it enforces signing, as AWS does.
    package static var withoutSigning: MotoServer {
        get async throws { try await startingUnsigned.value }
    }

    private init(signing: Bool) async throws {
        directory = try Paths.temporaryDirectory("moto")
        // Who started it: scripts/test leaves alone the servers of a test run still going beside it.
        try "\(getpid())".write(toFile: "\(directory)/owner", atomically: true, encoding: .utf8)
        let started = try await Shell.run("\(Paths.root)/scripts/moto-sandbox", ["start", directory],
                                          environment: ["MOTO_SANDBOX_AUTH": signing ? "on" : "off"])
        guard started.status == 0, let port = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("moto-sandbox start failed: \(started.stderr)")
        }
        self.port = port
        let tools = try await Shell.run("\(Paths.root)/scripts/s3-tools", [])
        self.tools = tools.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var keys: [String: String] = [:]
        for line in try String(contentsOfFile: "\(directory)/credentials", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { keys[parts[0]] = parts[1] }
        }
        guard let id = keys["AWS_ACCESS_KEY_ID"], let secret = keys["AWS_SECRET_ACCESS_KEY"] else {
            throw TestFailure("moto-sandbox wrote no credentials")
        }
        accessKeyID = id
        secretAccessKey = secret
        if signing {
            MotoServer.directoryToStop.set(directory)
            atexit {
                let directory = MotoServer.directoryToStop.value
                _ = system("'\(Paths.root)/scripts/moto-sandbox' stop '\(directory)' && rm -rf '\(directory)'")
            }
        } else {
            MotoServer.unsignedDirectoryToStop.set(directory)
            atexit {
                let directory = MotoServer.unsignedDirectoryToStop.value
                _ = system("'\(Paths.root)/scripts/moto-sandbox' stop '\(directory)' && rm -rf '\(directory)'")
            }
        }
    }

    private static let directoryToStop = Locked("")
    private static let unsignedDirectoryToStop = Locked("")

    /// The variables that give the AWS CLI, or `backup`, this server and the test user's keys.
    package var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey, "AWS_DEFAULT_REGION": "us-east-1",
         "AWS_ENDPOINT_URL": endpoint]
    }

    /// Runs the AWS CLI against this server as the test user.
    @discardableResult
    package func aws(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> Shell.Result {
        try await Shell.run("\(tools)/aws", ["--endpoint-url", endpoint] + arguments, environment: environment.merging(extra) { $1 })
    }

    /// A new empty bucket with a unique name.
    package func makeBucket(_ label: String) async throws -> String {
        let bucket = "\(label)-\(UUID().uuidString.prefix(8).lowercased())"
        let made = try await aws(["s3api", "create-bucket", "--bucket", bucket])
        guard made.status == 0 else { throw TestFailure("create-bucket failed: \(made.stderr)") }
        return bucket
    }

    /// Keys in `bucket` under `prefix`, as the AWS CLI lists them, but for each job's run record
    /// (`.<job>.runs.json`, rewritten by every run, failed ones too): what the runs left of backups.
    package func keys(_ bucket: String, prefix: String = "") async throws -> [String] {
        try await allKeys(bucket, prefix: prefix).filter { key in
            let name = key.split(separator: "/").last ?? ""
            return !(name.hasPrefix(".") && name.hasSuffix(".runs.json"))
        }
    }

    /// Every key in `bucket` under `prefix`, as the AWS CLI lists them.
    package func allKeys(_ bucket: String, prefix: String = "") async throws -> [String] {
        let listed = try await aws(["s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix,
                                    "--query", "Contents[].Key", "--output", "text"])
        guard listed.status == 0 else { throw TestFailure("list-objects-v2 failed: \(listed.stderr)") }
        let text = listed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return text == "None" || text.isEmpty ? [] : text.split(whereSeparator: { $0 == "\t" || $0 == "\n" }).map(String.init).sorted()
    }

    /// Multipart uploads in progress in `bucket`, as the AWS CLI lists them.
    package func uploadsInProgress(_ bucket: String) async throws -> [String] {
        let listed = try await aws(["s3api", "list-multipart-uploads", "--bucket", bucket, "--query", "Uploads[].Key", "--output", "text"])
        guard listed.status == 0 else { throw TestFailure("list-multipart-uploads failed: \(listed.stderr)") }
        let text = listed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return text == "None" || text.isEmpty ? [] : text.split(whereSeparator: { $0 == "\t" || $0 == "\n" }).map(String.init)
    }
}
