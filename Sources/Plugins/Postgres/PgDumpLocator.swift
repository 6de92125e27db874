import Engine
import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Finds a pg_dump at least as new as the server (pg_dump refuses to dump a newer server), and of all
/// those the oldest: the server's own major where the pod has it. A newer pg_dump writes what only its
/// own major understands (pg_dump 17 sets `transaction_timeout`), so its dump of a 15 server fails to
/// load into 15, the restore most backups are made for. A dump loads into any newer server either way.
/// Looks in `PATH` and in Debian's `/usr/lib/postgresql/<major>/bin`.
enum PgDumpLocator {
    struct Tool: Equatable {
        var path: String
        var version: String
        var major: Int
    }

    static func find(serverMajor: Int, override: String?) async throws -> Tool {
        if let override {
            guard let tool = await inspect(override) else {
                throw BackupError(.toolMissing, "postgres.pg_dump \(override) is not a working pg_dump; fix the path")
            }
            guard tool.major >= serverMajor else {
                throw BackupError(.toolMissing,
                    "postgres.pg_dump \(override) is version \(tool.version)"
                        + " but the server is PostgreSQL \(serverMajor); use pg_dump \(serverMajor) or newer")
            }
            return tool
        }
        var tools: [Tool] = []
        for path in candidates() {
            if let tool = await inspect(path) { tools.append(tool) }
        }
        guard let best = tools.filter({ $0.major >= serverMajor }).min(by: { $0.major < $1.major }) else {
            let found = tools.map { "\($0.version) at \($0.path)" }.joined(separator: ", ")
            throw BackupError(.toolMissing,
                "the server is PostgreSQL \(serverMajor) and needs pg_dump \(serverMajor) or newer;"
                    + " found \(found.isEmpty ? "none" : found);"
                    + " install postgresql-client-\(serverMajor) or set postgres.pg_dump")
        }
        return best
    }

    static func candidates() -> [String] {
        let pathDirectories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
            .split(separator: ":").map(String.init)
        let versioned = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted().map { "/usr/lib/postgresql/\($0)/bin" }
        var seen = Set<String>()
        return (pathDirectories + versioned).map { "\($0)/pg_dump" }.filter { path in
            guard FileManager.default.isExecutableFile(atPath: path) else { return false }
            let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? path
            // Debian's /usr/bin/pg_dump is pg_wrapper, a Perl script that starts one of the versioned
            // binaries listed here anyway; skipping it saves about 80 ms per tool started.
            if real.hasSuffix("/pg_wrapper") && !versioned.isEmpty { return false }
            return seen.insert(real).inserted
        }
    }

    /// Runs `pg_dump --version` and parses "pg_dump (PostgreSQL) 15.18 (Debian …)".
    /// It runs with `PATH` alone: nothing of this process's environment (a variable holding the password,
    /// say) reaches a program that needs none of it.
    static func inspect(_ path: String) async -> Tool? {
        let environment = Environment.custom(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
        guard let result = try? await Subprocess.run(
            .path(FilePath(path)), arguments: ["--version"], environment: environment,
            output: .string(limit: 4096), error: .discarded),
            result.terminationStatus.isSuccess,
            case let output = result.standardOutput,
            let version = output.split(separator: " ").dropFirst(2).first.map(String.init),
            let major = Int(version.prefix { $0.isNumber })
        else { return nil }
        return Tool(path: path, version: version.trimmingCharacters(in: .whitespacesAndNewlines), major: major)
    }
}
