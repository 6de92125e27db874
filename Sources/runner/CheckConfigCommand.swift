import ArgumentParser
import Engine

struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration and print the effective settings per job.",
        discussion: """
            Connects to nothing (`backup check` does). Each setting shows where it came from (file:line, \
            default, or the variable); secrets show as <redacted>. A configuration error exits 78.

            Examples:
              backup check-config --config /etc/backup/backup.conf
              DATABASE_SERVICE_NAME=db POSTGRESQL_DATABASE=app backup check-config
            """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await reportingFailures {
            _ = options.bootstrapLogging()
            let (process, jobs) = try options.loadConfiguration()
            // The process's own settings first, as they are written: before the first [job].
            Self.printSettings(process.effective)
            for job in jobs {
                print("\n[\(job.name)]")
                Self.printSettings(job.settings)
            }
            // The tools the source plugins find here (which pg_dump versions the pod carries).
            for line in await BuildInfo.tools() { print("# \(line)") }
            print("\nconfiguration OK: \(jobs.count) job\(jobs.count == 1 ? "" : "s")")
        }
    }

    /// `key = value  # origin` lines, the comments aligned.
    private static func printSettings(_ settings: [EffectiveSetting]) {
        for line in TextTable.lines(settings.map { ["\($0.key) = \($0.value)", "# \($0.origin)"] }) { print(line) }
    }
}
