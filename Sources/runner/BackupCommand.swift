import ArgumentParser
import Engine
import Foundation
import Logging
import Plugins

@main
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up PostgreSQL databases to a volume, safely and verifiably.",
        subcommands: [NowCommand.self, RunCommand.self, ListCommand.self, RestoreCommand.self, VerifyCommand.self, PruneCommand.self, NextCommand.self,
                      CheckConfigCommand.self])
}

/// Options every command shares: where the configuration comes from and how much to log.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: $BACKUP_CONFIG, else the original container's variables).")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
        }
    }

    /// Bootstraps logging and returns the runner's logger; each process runs one command, so this runs once.
    /// Also ignores SIGPIPE: a restore tool that exits early must turn our next write into an error we
    /// report with the tool's own message, not kill us silently.
    func bootstrapLogging() -> Logger {
        signal(SIGPIPE, SIG_IGN)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "backup")
    }

    /// Loads and validates every job; a configuration error ends the process with its one-line message.
    func loadJobs(only name: String? = nil) throws -> [Job] {
        let environment = ProcessInfo.processInfo.environment
        let loader = JobLoader(registry: BuiltinPlugins.registry)
        let jobs: [Job]
        do {
            let path = config ?? environment["BACKUP_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            if let path {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ConfigError(file: path, line: nil, key: nil, message: "cannot read the configuration file; check the path")
                }
                jobs = try loader.load(try ConfigDocument.parse(String(decoding: data, as: UTF8.self), file: path, environment: environment))
            } else {
                jobs = try loader.load(try LegacyEnvironment.document(environment))
            }
        } catch let error as ConfigError {
            throw Failure(message: "config error: \(error)", exitCode: Failure.configExitCode)
        }
        guard let name else { return jobs }
        guard let job = jobs.first(where: { $0.name == name }) else {
            throw Failure(message: "no job named '\(name)'; jobs: \(jobs.map(\.name).joined(separator: ", "))",
                          exitCode: ExitCode.validationFailure.rawValue)
        }
        return [job]
    }
}

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
            FileHandle.standardError.write(Data("backup: \(failure.message)\n".utf8))
            throw ExitCode(failure.exitCode)
        }
    }
}
