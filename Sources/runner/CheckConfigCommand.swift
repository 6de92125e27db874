import ArgumentParser
import Engine

struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration and print the effective settings per job.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await reportingFailures {
            _ = options.bootstrapLogging()
            let jobs = try options.loadJobs()
            for (index, job) in jobs.enumerated() {
                if index > 0 { print("") }
                print("[\(job.name)]")
                let width = job.settings.map { $0.key.count + $0.value.count + 3 }.max() ?? 0
                for setting in job.settings {
                    let line = "\(setting.key) = \(setting.value)"
                    print("\(line.padding(toLength: width, withPad: " ", startingAt: 0))  # \(setting.origin)")
                }
            }
            print("\nconfiguration OK: \(jobs.count) job\(jobs.count == 1 ? "" : "s")")
        }
    }
}
