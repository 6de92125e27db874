import Engine
import Foundation
import Testing

/// Runs the real `backup` executable against a config file, as a person or a CronJob would.
package struct BackupCLI {
    package let directory: String
    package let configPath: String
    package var environment: [String: String]

    /// Writes `config` to a file in a new directory whose `backups/` subdirectory is the destination.
    package init(label: String, config: (String) -> String, environment: [String: String] = [:]) async throws {
        directory = try Paths.temporaryDirectory(label)
        try FileManager.default.createDirectory(atPath: "\(directory)/backups", withIntermediateDirectories: true)
        configPath = "\(directory)/backup.conf"
        try config("\(directory)/backups").write(toFile: configPath, atomically: true, encoding: .utf8)
        self.environment = ["TEST_PGPASSWORD": try await PostgresServer.shared.password].merging(environment) { $1 }
    }

    /// A job `app` backing up `database` on the shared server as its superuser, which can read a database
    /// owned by any role.
    package static func asSuperuser(label: String, database: String, extra: String = "") async throws -> BackupCLI {
        let server = try await PostgresServer.shared
        return try await BackupCLI(label: label, config: { directory in
            "postgres.host = 127.0.0.1\npostgres.port = \(server.port)\npostgres.user = postgres\npostgres.password = ${SUPERUSER_PASSWORD}\nlocal.path = \(directory)\n[app]\npostgres.database = \(database)\n\(extra)\n"
        }, environment: ["SUPERUSER_PASSWORD": server.superuserPassword])
    }

    /// The path of a backup file in the destination.
    package func path(_ file: String) -> String { "\(backups)/\(file)" }

    package var backups: String { "\(directory)/backups" }

    @discardableResult
    package func run(_ arguments: String...) async throws -> Shell.Result {
        try await Shell.run(Paths.backup, arguments + ["--config", configPath], environment: environment)
    }

    /// The visible files in the backup directory (backups, manifests, sidecars), sorted.
    package func files() throws -> [String] {
        try allFiles().filter { !$0.hasPrefix(".") }
    }

    /// Every file in the backup directory, hidden ones (partial uploads, lock files) included, sorted.
    package func allFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: backups).sorted()
    }

    /// The backups `backup list --json` reports.
    package func listed() async throws -> [[String: Any]] {
        try await listedEntries().filter { $0["problem"] == nil }
    }

    /// What `backup list --json` reports that is not a whole backup, with its `problem`.
    package func listedProblems() async throws -> [[String: Any]] {
        try await listedEntries().filter { $0["problem"] != nil }
    }

    private func listedEntries() async throws -> [[String: Any]] {
        let result = try await run("list", "--json")
        guard result.status == 0,
              let array = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        else { throw TestFailure("backup list failed: \(result.stderr)") }
        return array
    }

    package func manifest(of file: String) throws -> Manifest {
        try Manifest.decode(Array(try Data(contentsOf: URL(fileURLWithPath: "\(backups)/\(file)\(Manifest.suffix)"))))
    }

    /// Rewrites `file`'s manifest: `change` edits it as JSON (an attacker's or an older release's).
    package func editManifest(of file: String, _ change: (inout [String: Any]) -> Void) throws {
        let url = URL(fileURLWithPath: "\(backups)/\(file)\(Manifest.suffix)")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        change(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }

    /// Replaces `file`'s globals sidecar with `source`'s bytes, its manifest then as an older release wrote
    /// it (no sidecar checksums), so only the sidecar's own contents decide what a restore does with it.
    package func plantGlobals(of file: String, from source: String) throws {
        let sidecar = "\(backups)/\(file).globals.json"
        try FileManager.default.removeItem(atPath: sidecar)
        try FileManager.default.copyItem(atPath: source, toPath: sidecar)
        try editManifest(of: file) { $0["sidecar_checksums"] = nil }
    }

    package func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }
}
