import Foundation
import Testing

/// Waits for a state the test can see, polling: returns as soon as `condition` holds, throws when it did not
/// within `limit`. The limit only tells a state that never comes from one that is slow on a loaded machine,
/// so it is generous; no test concludes anything from the time itself.
package func waitUntil(_ what: String, limit: Duration = .seconds(120), every interval: Duration = .milliseconds(100),
               _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else { throw TestFailure("gave up after \(limit) waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// A program started in the background (`sh -c 'exec …'`, so the shell's pid is the program's), that the test
/// signals by that pid alone: never by name, which could reach processes of tests running beside it.
package struct Background {
    package let pid: pid_t
    private let run: Task<Shell.Result, any Error>
    /// Set once the program ended and was reaped: its pid may then be another process's.
    private let ended: Locked<Bool>

    /// Starts `command` (a shell command line) with `environment` added; `pidFile` must be a new path.
    package static func start(_ command: String, environment: [String: String] = [:], pidFile: String) async throws -> Background {
        let ended = Locked(false)
        let run = Task {
            defer { ended.set(true) }
            return try await Shell.sh("echo $$ > \(Shell.quote(pidFile)); exec \(command)", environment: environment)
        }
        var pid: pid_t?
        try await waitUntil("\(command) to start") {
            pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return pid != nil
        }
        return Background(pid: pid!, run: run, ended: ended)
    }

    /// `backup ARGUMENTS --config` of `cli`, with its environment and stderr in `stderrFile` when given.
    package static func backup(_ cli: BackupCLI, _ arguments: String..., stderrFile: String? = nil) async throws -> Background {
        let words = ([Paths.backup] + arguments + ["--config", cli.configPath]).map(Shell.quote).joined(separator: " ")
        let redirect = stderrFile.map { " 2>\(Shell.quote($0))" } ?? ""
        return try await start(words + redirect, environment: cli.environment,
                               pidFile: "\(cli.directory)/background-\(UUID().uuidString.prefix(8)).pid")
    }

    /// Sends `signal` unless the program already ended.
    package func signal(_ signal: Int32) {
        if !ended.value { kill(pid, signal) }
    }

    /// Kills the program if it still runs: for a `defer`, so a failed test leaves nothing running.
    package func end() { signal(SIGKILL) }

    /// Waits for the program to end; its status, output and how long it ran.
    package func result() async throws -> Shell.Result { try await run.value }

    /// Sends `signal` and waits for the program to end; also how long that took.
    package func stop(_ signal: Int32) async throws -> (result: Shell.Result, took: Duration) {
        let start = ContinuousClock.now
        self.signal(signal)
        let result = try await run.value
        return (result, ContinuousClock.now - start)
    }
}

package enum Processes {
    /// Whether `pid` is a live process (not gone, not a zombie nobody reaped).
    package static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let state = stat.split(separator: ")").last?.split(separator: " ").first
        else { return false }
        return state != "Z"
    }

    /// The paths `pid` has open (its `/proc/PID/fd` links); empty once it ended.
    package static func openFiles(_ pid: pid_t) -> [String] {
        let directory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)") }
    }

    /// The pid a stand-in wrote to `file`, if it did.
    package static func pid(in file: String) -> pid_t? {
        (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
