import ArgumentParser
import Engine
import Foundation
import Logging
import Synchronization

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Stay up and back up each job on its schedule or every `interval` (default 24h).")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let jobs = try options.loadJobs()
            let busy = Busy()
            let signal = await SignalCancellation.run {
                await Self.loop(jobs, logger: logger, busy: busy)
            }
            if let signal {
                // A signal while idle is a normal shutdown (0); one that stopped a backup says so (143/130),
                // after that backup's partial file was removed and its lock released.
                let interrupted = busy.interrupted
                logger.notice("stopping on signal \(signal)\(interrupted ? "; the backup in progress was stopped and removed" : "")")
                throw ExitCode(interrupted ? 128 + signal : 0)
            }
        }
    }

    /// Each job runs at its next scheduled time (or every `interval`), one job at a time; a job that is
    /// overdue at start runs at once. A failing job is logged with its count of consecutive failures and
    /// keeps its schedule, as do all the others.
    static func loop(_ jobs: [Job], logger: Logger, busy: Busy) async {
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
                    group.addTask {
                        busy.begin()
                        let succeeded = await runner.runOne(job)
                        busy.end(cancelled: Task.isCancelled)
                        return (job.name, succeeded)
                    }
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

/// Whether a backup was running when the daemon was cancelled.
final class Busy: Sendable {
    private let state = Mutex<(running: Int, interrupted: Bool)>((0, false))

    func begin() { state.withLock { $0.running += 1 } }

    func end(cancelled: Bool) {
        state.withLock {
            $0.running -= 1
            if cancelled { $0.interrupted = true }
        }
    }

    var interrupted: Bool { state.withLock { $0.interrupted } }
}
