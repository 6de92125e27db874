import ArgumentParser
import Engine
import Foundation
import Logging
import BuiltinPlugins
import Synchronization

/// Options every command shares: where the configuration comes from and how much to log.
struct CommonOptions: ParsableArguments {
    /// Read when present and no other file is named: where the image and the Kubernetes manifests put it.
    static let standardConfigPath = "/etc/backup/backup.conf"

    @Option(name: .long, help: """
        Configuration file (default: $BACKUP_CONFIG, else /etc/backup/backup.conf if present, else the original \
        container's variables).
        """)
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    @Option(name: .long,
            help: "Log format: text or json (default: the config's log.format, else $LOG_FORMAT, else text).")
    var logFormat: String?

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
        }
        if let logFormat, !["text", "json"].contains(logFormat) {
            throw ValidationError("--log-format must be text or json")
        }
    }

    /// The configuration file in use, if any.
    var configPath: String? {
        if let config { return config }
        if let path = ProcessInfo.processInfo.environment["BACKUP_CONFIG"], !path.isEmpty { return path }
        return FileManager.default.fileExists(atPath: Self.standardConfigPath) ? Self.standardConfigPath : nil
    }

    /// --log-format, else the file's top-level `log.format`, else $LOG_FORMAT, else text. The file is only
    /// peeked at here; its errors are reported when the jobs load.
    var effectiveLogFormat: String {
        if let logFormat { return logFormat }
        let environment = ProcessInfo.processInfo.environment
        if let path = configPath, let data = FileManager.default.contents(atPath: path),
           let document = try? ConfigDocument.parse(String(decoding: data, as: UTF8.self), file: path,
                                                    environment: environment),
           let value = document.defaults.last(where: { $0.key == "log.format" })?.value {
            return value
        }
        return environment["LOG_FORMAT"].flatMap { $0.isEmpty ? nil : $0 } ?? "text"
    }

    /// Bootstraps logging and returns the runner's logger; each process runs one command, so this runs once.
    /// Also ignores SIGPIPE: a restore tool that exits early must turn our next write into an error we
    /// report with the tool's own message, not kill us silently.
    func bootstrapLogging() -> Logger {
        signal(SIGPIPE, SIG_IGN)
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = effectiveLogFormat == "json"
        logsAsJSON.withLock { $0 = json }
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = TextLogHandler()
            handler.logLevel = level
            return handler
        }
        return Logger(label: "backup")
    }

    /// Loads and validates the process's settings and every job; a configuration error ends the process
    /// with its one-line message.
    /// `overrides`: settings from command-line options, set for every job (see ``KeyOptions``).
    /// `quiet`: without the warnings about secrets (for a second load of the same file).
    func loadConfiguration(
        overrides: [ConfigEntry] = [], forReading: Bool = false, quiet: Bool = false
    ) throws -> (process: ProcessSettings, jobs: [Job]) {
        let environment = ProcessInfo.processInfo.environment
        let loader = JobLoader(registry: ProcessSettings.registry, processKeys: ProcessSettings.keys,
                               forReading: forReading)
        do {
            var document: ConfigDocument
            var text: String?
            if let path = configPath {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ConfigError(file: path, line: nil, key: nil,
                                      message: "cannot read the configuration file; check the path")
                }
                text = String(decoding: data, as: UTF8.self)
                document = try ConfigDocument.parse(text!, file: path, environment: environment)
            } else {
                document = try LegacyEnvironment.document(environment)
            }
            if !overrides.isEmpty { document = document.overriding(overrides) }
            let loaded = try loader.loadConfiguration(document)
            // Logging is bootstrapped by every command before it loads the configuration.
            let logger = Logger(label: "backup")
            for warning in SecretAudit.warnings(document, text: text, loader: loader) where !quiet {
                logger.warning("\(warning)")
            }
            return (ProcessSettings(loaded.process, effective: loaded.processSettings), loaded.jobs)
        } catch let error as ConfigError {
            throw Failure(message: "config error: \(error)", exitCode: Failure.configExitCode)
        }
    }

    /// Loads and validates every job; a configuration error ends the process with its one-line message.
    func loadJobs(
        only name: String? = nil, overrides: [ConfigEntry] = [], forReading: Bool = false, quiet: Bool = false
    ) throws -> [Job] {
        try loadConfiguration(only: name, overrides: overrides, forReading: forReading, quiet: quiet).jobs
    }

    /// The process's settings and its jobs, or only the job `name` (a usage error when there is none).
    func loadConfiguration(
        only name: String?, overrides: [ConfigEntry] = [], forReading: Bool = false, quiet: Bool = false
    ) throws -> (process: ProcessSettings, jobs: [Job]) {
        let (process, jobs) = try loadConfiguration(overrides: overrides, forReading: forReading, quiet: quiet)
        guard let name else { return (process, jobs) }
        guard let job = Job.named(name, in: jobs) else {
            throw Failure(message: "no job named '\(name)'; jobs: \(jobs.map(\.name).joined(separator: ", "))",
                          exitCode: ExitCode.validationFailure.rawValue)
        }
        return (process, [job])
    }
}
