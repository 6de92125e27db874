import ArgumentParser
import Foundation

extension AsyncParsableCommand {
    /// Runs `body`, turning a ``Failure`` into its message and exit code.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as Failure {
            let text = "backup: \(failure.message)"
            let json = logsAsJSON.withLock { $0 }
            let line = json ? JSONLogHandler.line(level: "error", [("message", text)]) : text + "\n"
            FileHandle.standardError.write(Data(line.utf8))
            throw ExitCode(failure.exitCode)
        }
    }
}
