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
                      CheckConfigCommand.self, KeygenCommand.self])
}

/// Whether logs (and the final failure line) are JSON; set once by `bootstrapLogging`.
let logsAsJSON = Mutex(false)
