import Foundation
import Subprocess
import Synchronization
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs real programs for the tests: the system's gunzip, zstd, psql, pg_restore and our own `backup`.
package enum Shell {
    package struct Result {
        package var status: Int32
        package var stdout: String
        package var stderr: String
        package var seconds: Double
    }

    /// Runs `command` with `/bin/sh -c`, so tests can write pipelines exactly as a person would.
    @discardableResult
    package static func sh(_ command: String, environment: [String: String] = [:]) async throws -> Result {
        try await run("/bin/sh", ["-c", command], environment: environment)
    }

    /// Runs a program to completion. Async (swift-subprocess), so waiting never blocks the test pool's threads.
    package static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        let start = Date()
        var updates: [Environment.Key: String?] = [:]
        for (key, value) in environment { updates[Environment.Key(stringLiteral: key)] = value }
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments), environment: .inherit.updating(updates),
            output: .string(limit: 256 << 20), error: .string(limit: 16 << 20))
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return Result(status: status, stdout: result.standardOutput, stderr: result.standardError,
                      seconds: Date().timeIntervalSince(start))
    }

    /// Quotes `text` for /bin/sh.
    package static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// A value written once by another thread.
package final class Locked<Value: Sendable>: Sendable {
    private let storage: Mutex<(Value, Bool)>

    package init(_ value: Value) { storage = Mutex((value, false)) }
    package func set(_ value: Value) { storage.withLock { $0 = (value, true) } }
    package var value: Value { storage.withLock { $0.0 } }
    package var isSet: Bool { storage.withLock { $0.1 } }
}

package enum Paths {
    /// The package's root directory: three levels above this file (Tests/TestSupport/Shell.swift).
    package static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The `backup` executable the test build built: the one beside this test bundle (the running executable,
    /// `/proc/self/exe`, or the path it was started as). There is no fallback to another build's binary,
    /// which could be stale: without one beside the bundle the run stops, saying so.
    package static let backup: String = {
        let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var candidates: [String] = []
        for path in [running, CommandLine.arguments[0]] {
            var directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            // On macOS the bundle's executable is inside NAME.xctest/Contents/MacOS.
            while directory.path.contains(".xctest") { directory.deleteLastPathComponent() }
            candidates.append(directory.appendingPathComponent("backup").path)
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        fatalError("no backup executable beside the test bundle (looked at \(candidates)); build it with the tests: swift build --build-tests")
    }()

    /// A PostgreSQL client (`psql`, `pg_dump`, `pg_restore`) as `PATH` finds it first: the host's, or, in
    /// the matrix runs of `scripts/test`, the wrappers of another major's clients put in front of `PATH`.
    package static func pgTool(_ name: String) -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        return "/usr/bin/\(name)"
    }

    /// A new empty directory, removed by the caller (or left for inspection when a test fails).
    package static func temporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "backup-tests-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Where two texts first differ, for a readable failure message when dumps do not match.
package func firstDifference(_ a: String, _ b: String) -> String {
    let left = a.split(separator: "\n", omittingEmptySubsequences: false)
    let right = b.split(separator: "\n", omittingEmptySubsequences: false)
    for index in 0..<max(left.count, right.count) {
        let l = index < left.count ? String(left[index]) : "<end>"
        let r = index < right.count ? String(right[index]) : "<end>"
        if l != r { return "line \(index + 1): \(l.prefix(200)) ≠ \(r.prefix(200))" }
    }
    return "identical"
}

/// Two pg_dump outputs must be equal; on failure the message shows the first line that differs.
package func expectSameDump(_ actual: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual == expected, "\(firstDifference(actual, expected))", sourceLocation: sourceLocation)
}
