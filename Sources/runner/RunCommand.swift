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

    /// Each job runs at its next scheduled time (or every `interval`), one job at a time; a job that is
    /// overdue at start runs at once. A failing job is logged with its count of consecutive failures and
    /// keeps its schedule, as do all the others.
    static func loop(_ jobs: [Job], logger: Logger) async {
        let runner = JobRunner(logger: logger, showProgress: false)
        let start = Date()
        var due: [String: Date] = [:]
        for job in jobs {
            let newest = try? await BackupCatalog.records(of: job.name, in: job.destination).last?.created
            due[job.name] = job.isDueAtStart(now: start, newestBackup: newest) ? start : job.nextRun(after: start)
            logNext(job, due[job.name], logger: logger)
        }
        var failures: [String: Int] = [:]
        let parallel = jobs.map(\.parallel).max() ?? 1
        while !Task.isCancelled {
            let ready = jobs.filter { job in due[job.name].map { $0 <= Date() } ?? false }
            // Up to `parallel` jobs at once; the rest wait for a free slot.
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                var results: [(String, Bool)] = []
                for (index, job) in ready.enumerated() {
                    if index >= parallel, let finished = await group.next() { results.append(finished) }
                    if Task.isCancelled { break }
                    group.addTask { (job.name, await runner.runOne(job)) }
                }
                for await finished in group { results.append(finished) }
                return results
            }
            for (name, succeeded) in results {
                guard let job = jobs.first(where: { $0.name == name }) else { continue }
                if succeeded {
                    failures[name] = nil
                } else {
                    failures[name, default: 0] += 1
                    logger.warning("job has failed \(failures[name]!) time(s) in a row", metadata: ["job": "\(name)"])
                }
                due[name] = job.nextRun(after: max(due[name] ?? Date(), Date()))
                logNext(job, due[name], logger: logger)
            }
            guard let next = due.values.compactMap({ $0 }).min() else { return }
            try? await Task.sleep(for: .seconds(max(0, next.timeIntervalSinceNow)))
        }
    }

    static func logNext(_ job: Job, _ date: Date?, logger: Logger) {
        guard let date else {
            logger.warning("the schedule never runs again", metadata: ["job": "\(job.name)"])
            return
        }
        logger.info("next run at \(Timestamp.local(date, in: job.timeZone))", metadata: ["job": "\(job.name)"])
    }
}
