import ArgumentParser
import Engine
import Foundation
import Logging

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Stay up and back up each job every `interval` (default 24h).")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let jobs = try options.loadJobs()
            let signal = await SignalCancellation.run {
                await Self.loop(jobs, logger: logger)
            }
            if let signal {
                logger.notice("stopping on signal \(signal)")
                // A signal while idle is a normal shutdown; one mid-backup already failed that job loudly.
                throw ExitCode(0)
            }
        }
    }

    /// The first backup of every job runs at start, as the original container's loop did.
    static func loop(_ jobs: [Job], logger: Logger) async {
        let runner = JobRunner(logger: logger, showProgress: false)
        var due = Dictionary(uniqueKeysWithValues: jobs.map { ($0.name, Date()) })
        var failures: [String: Int] = [:]
        while !Task.isCancelled {
            let now = Date()
            for job in jobs where due[job.name]! <= now {
                if Task.isCancelled { return }
                if await runner.runOne(job) {
                    failures[job.name] = nil
                } else {
                    failures[job.name, default: 0] += 1
                    logger.warning("job has failed \(failures[job.name]!) time(s) in a row", metadata: ["job": "\(job.name)"])
                }
                due[job.name] = now.addingTimeInterval(job.interval)
                logger.info("next run at \(Timestamp.iso8601(due[job.name]!))", metadata: ["job": "\(job.name)"])
            }
            let next = due.values.min()!
            try? await Task.sleep(for: .seconds(max(0, next.timeIntervalSinceNow)))
        }
    }
}
