import ArgumentParser
import Engine
import Foundation

struct NextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next run times of every job, in the job's timezone, to check a schedule.")

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "How many run times per job.")
    var count: Int = 5

    func validate() throws {
        guard (1...1000).contains(count) else { throw ValidationError("--count must be from 1 to 1000") }
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] where whole % size == 0 {
            return "\(whole / size)\(unit)"
        }
        return "\(whole)s"
    }

    func run() async throws {
        try await reportingFailures {
            _ = options.bootstrapLogging()
            let now = Date()
            for job in try options.loadJobs() {
                let rule = job.schedule.map { "schedule \($0)" } ?? "every \(Self.duration(job.interval))"
                print("[\(job.name)] \(rule), timezone \(job.timeZone.identifier)")
                var time = now
                for _ in 0..<count {
                    guard let next = job.nextRun(after: time) else {
                        print("  (no further runs)")
                        break
                    }
                    print("  \(Timestamp.local(next, in: job.timeZone))")
                    time = next
                }
            }
        }
    }
}
