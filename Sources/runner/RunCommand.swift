import ArgumentParser
import Engine
import Foundation
import Logging
import NIOCore
import Synchronization

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Stay up and back up each job on its schedule or every `interval` (default 24h).",
        discussion: """
            `backup next` shows when it would run each job. With http.listen it serves /healthz, /readyz, \
            /metrics and a status page at /. SIGTERM ends it with status 0 (a backup in progress is stopped and \
            removed first).

            Examples:
              backup run --config /etc/backup/backup.conf
              HTTP_LISTEN=127.0.0.1:8080 backup run --log-format json
            """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let (process, jobs) = try options.loadConfiguration()
            let busy = Busy()
            let status = DaemonStatus(jobs: jobs, tools: await BuildInfo.tools())
            let server = try await startStatusServer(process, status: status, logger: logger)
            defer { server?.close(promise: nil) }
            let signal = await SignalCancellation.run {
                status.schedulerAlive = true
                await Self.loop(jobs, parallel: process.parallel, logger: logger, busy: busy, status: status)
                status.schedulerAlive = false
            }
            if let signal {
                // A signal while idle is a normal shutdown (0); one that stopped a backup says so (143/130),
                // after that backup's partial file was removed and its lock released.
                let interrupted = busy.interrupted
                let stopped = interrupted ? "; the backup in progress was stopped and removed" : ""
                logger.notice("stopping on signal \(signal)\(stopped)")
                throw ExitCode(interrupted ? 128 + signal : 0)
            }
        }
    }

    /// `http.listen` from the configuration (set before the first [job]), else $HTTP_LISTEN; nil when off.
    private func startStatusServer(
        _ process: ProcessSettings, status: DaemonStatus, logger: Logger
    ) async throws -> (any Channel)? {
        let environment = ProcessInfo.processInfo.environment["HTTP_LISTEN"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = process.httpListen ?? environment else { return nil }
        guard let address = HTTPAddress(text) else {
            throw Failure(message: "config error: HTTP_LISTEN: '\(text)' is not address:port, e.g. 0.0.0.0:9187",
                          exitCode: Failure.configExitCode)
        }
        do {
            return try await StatusServer.start(address, status: status, logger: logger)
        } catch {
            throw Failure(message: "cannot listen on \(address) (http.listen): \(error)", exitCode: 1)
        }
    }

    /// Each job keeps its own schedule, in a loop of its own: it runs at its next scheduled time (or every
    /// `interval`), or at once when overdue at start, whenever one of the `parallel` slots is free. A job
    /// that is slow or hung (until its stall timeout ends it) holds only its own slot, never another job's
    /// schedule. A failing job is logged with its count of consecutive failures and keeps its schedule.
    static func loop(_ jobs: [Job], parallel: Int, logger: Logger, busy: Busy, status: DaemonStatus) async {
        var configured = JobRunner(logger: logger, showProgress: false)
        configured.parallel = parallel
        configured.onEvent = { @Sendable event in status.record(event) }
        let runner = configured
        let start = Date()
        var firstRuns: [String: Date?] = [:]
        for job in jobs {
            firstRuns[job.name] = await firstRun(of: job, start: start, status: status, logger: logger)
        }
        let slots = Slots(parallel)
        await withTaskGroup(of: Void.self) { group in
            for job in jobs {
                let first = firstRuns[job.name] ?? nil
                group.addTask {
                    var due = first
                    var failures = 0
                    while let next = due, !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(max(0, next.timeIntervalSinceNow)))
                        guard await slots.acquire() else { return }
                        busy.begin()
                        status.started(job.name)
                        let succeeded = await runner.runOne(job)
                        busy.end(cancelled: Task.isCancelled)
                        slots.release()
                        // For the status page: what the destinations hold now.
                        await status.list(job)
                        if succeeded {
                            failures = 0
                        } else {
                            failures += 1
                            logger.warning("job has failed \(failures) time(s) in a row",
                                           metadata: ["job": "\(job.name)"])
                        }
                        due = job.nextRun(after: max(next, Date()))
                        status.scheduled(job.name, at: due)
                        logNext(job, due, logger: logger)
                    }
                }
            }
        }
    }

    /// When `job` first runs in a daemon started at `start`: at once when it is overdue, else at its next
    /// time. Tells `status` (with the newest backup already stored) and logs it.
    static func firstRun(of job: Job, start: Date, status: DaemonStatus, logger: Logger) async -> Date? {
        // What each destination holds; the newest backup at any of them.
        let statuses = await status.list(job, now: start)
        let newest = statuses.compactMap { $0.newest?.created }.max()
        let due = job.isDueAtStart(now: start, newestBackup: newest) ? start : job.nextRun(after: start)
        status.stored(job.name, statuses: statuses)
        await storedDatabases(of: job, status: status, logger: logger)
        status.scheduled(job.name, at: due)
        logNext(job, due, logger: logger)
        return due
    }

    static func logNext(_ job: Job, _ date: Date?, logger: Logger) {
        guard let date else {
            logger.warning("the schedule never runs again", metadata: ["job": "\(job.name)"])
            return
        }
        logger.info("next run at \(Timestamp.local(date, in: job.timeZone))", metadata: ["job": "\(job.name)"])
    }
}
