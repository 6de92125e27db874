import ArgumentParser
import Engine
import Foundation
import Logging
import NIOCore
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
            let status = DaemonStatus(jobs: jobs)
            let server = try await startStatusServer(jobs, status: status, logger: logger)
            defer { server?.close(promise: nil) }
            let signal = await SignalCancellation.run {
                status.schedulerAlive = true
                await Self.loop(jobs, logger: logger, busy: busy, status: status)
                status.schedulerAlive = false
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

    /// `http.listen` from the configuration (set before the first [job]), else $HTTP_LISTEN; nil when off.
    private func startStatusServer(_ jobs: [Job], status: DaemonStatus, logger: Logger) async throws -> (any Channel)? {
        let environment = ProcessInfo.processInfo.environment["HTTP_LISTEN"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = jobs.first?.httpListen ?? environment else { return nil }
        guard let address = HTTPAddress(text) else {
            throw Failure(message: "config error: HTTP_LISTEN: '\(text)' is not address:port, e.g. 0.0.0.0:9187", exitCode: Failure.configExitCode)
        }
        do {
            return try await StatusServer.start(address, status: status, logger: logger)
        } catch {
            throw Failure(message: "cannot listen on \(address) (http.listen): \(error)", exitCode: 1)
        }
    }

    /// Each job runs at its next scheduled time (or every `interval`), one job at a time; a job that is
    /// overdue at start runs at once. A failing job is logged with its count of consecutive failures and
    /// keeps its schedule, as do all the others.
    static func loop(_ jobs: [Job], logger: Logger, busy: Busy, status: DaemonStatus? = nil) async {
        var configured = JobRunner(logger: logger, showProgress: false)
        if let status { configured.onEvent = { @Sendable event in status.record(event) } }
        let runner = configured
        let start = Date()
        var due: [String: Date] = [:]
        for job in jobs {
            let newest = try? await BackupCatalog.records(of: job.name, in: job.destination).last?.created
            due[job.name] = job.isDueAtStart(now: start, newestBackup: newest) ? start : job.nextRun(after: start)
            status?.stored(job.name, newest: newest)
            status?.scheduled(job.name, at: due[job.name])
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
                status?.scheduled(name, at: due[name])
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
