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
        abstract: "Back up PostgreSQL databases to volumes and object storage, safely and verifiably.",
        subcommands: [NowCommand.self, RunCommand.self, ListCommand.self, StatusCommand.self, RestoreCommand.self,
                      VerifyCommand.self, PruneCommand.self, CopyCommand.self, NextCommand.self,
                      CheckConfigCommand.self, CheckCommand.self, KeygenCommand.self])

    /// A mistyped command is named with the nearest ones (ArgumentParser would only call the next option
    /// unknown: `backup restor --config x` said "Unknown option '--config'").
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, !first.hasPrefix("-") {
            let names = configuration.subcommands.map { $0._commandName } + ["help"]
            if !names.contains(first) {
                let near = NearestKeys.find(first, among: names)
                let hint = near.isEmpty ? "" : "; did you mean \(near.joined(separator: " or "))?"
                FileHandle.standardError.write(Data(
                    "backup: unknown command '\(first.prefix(100))'\(hint) (`backup --help` lists them)\n".utf8))
                Foundation.exit(64)
            }
        }
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(reporting: error)
        }
    }

    /// Ends the process as ArgumentParser would, but with every error line beginning `backup:` as the
    /// commands' own failures do (ArgumentParser begins its usage errors with `Error:`).
    private static func exit(reporting error: any Error) -> Never {
        let code = exitCode(for: error)
        var message = fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { print(message) }
        } else if !message.isEmpty {
            if message.hasPrefix("Error: ") { message = "backup: " + message.dropFirst("Error: ".count) }
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }
        Foundation.exit(code.rawValue)
    }

    @Flag(name: .long, help: "Print the version, the commit and Swift it was built from, and each pg_dump found.")
    var version = false

    func run() async throws {
        guard version else { throw CleanExit.helpRequest(self) }
        print("backup \(BuildInfo.version)")
        print("commit \(BuildInfo.commit) (\(BuildInfo.commitDate))")
        print("swift \(BuildInfo.swift)")
        // The tools each source plugin finds here (which pg_dump versions the pod carries).
        for line in await BuildInfo.tools() { print(line) }
    }
}

/// Whether logs (and the final failure line) are JSON; set once by `bootstrapLogging`.
let logsAsJSON = Mutex(false)
