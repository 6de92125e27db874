import ArgumentParser
import Engine
import Foundation
import Logging
import BuiltinPlugins
import Synchronization

@main
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up PostgreSQL databases to a volume, safely and verifiably.",
        subcommands: [NowCommand.self, RunCommand.self, ListCommand.self, RestoreCommand.self, VerifyCommand.self, PruneCommand.self, CopyCommand.self, NextCommand.self,
                      CheckConfigCommand.self, KeygenCommand.self])
}

/// Whether logs (and the final failure line) are JSON; set once by `bootstrapLogging`.
let logsAsJSON = Mutex(false)

/// Ends the process with one line on stderr and a specific exit code.
struct Failure: Error, CustomStringConvertible {
    /// EX_CONFIG from sysexits.h.
    static let configExitCode: Int32 = 78
    var message: String
    var exitCode: Int32
    var description: String { message }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning a ``Failure`` into its message and exit code.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as Failure {
            let text = "backup: \(failure.message)"
            let line = logsAsJSON.withLock { $0 } ? JSONLogHandler.line(level: "error", [("message", text)]) : text + "\n"
            FileHandle.standardError.write(Data(line.utf8))
            throw ExitCode(failure.exitCode)
        }
    }
}
