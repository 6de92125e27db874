import ArgumentParser
import Engine
import Foundation
import Logging
import Synchronization

struct NowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "now", abstract: "Back up every job (or one) once, now.",
        discussion: """
            Exits 0 only when every job stored its backup everywhere. On a terminal it shows progress on stderr \
            and prints one summary line per job on stdout. As a Kubernetes CronJob, run it with --wait so that \
            a run still in progress is waited for, not failed.

            Examples:
              backup now
              backup now --job shop --wait --config /etc/backup/backup.conf
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "Back up only this job.")
    var job: String?

    @Flag(name: .long, help: "If another process is backing up the same job, wait for it instead of failing.")
    var wait = false

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let (process, jobs) = try options.loadConfiguration(only: job)
            var runner = JobRunner(logger: logger, showProgress: TerminalProgress.isTerminal, waitForLock: wait,
                                   parallel: process.parallel)
            let exported = process.pushgateway != nil || process.metricsTextfile != nil
            let metrics = exported ? await RunMetrics.reading(jobs) : nil
            if let metrics { runner.onEvent = { @Sendable event in metrics.record(event) } }
            runner.summarize = RunSummary.isTerminal
            let box = FailedJobs()
            let signal = await SignalCancellation.run { [runner] in box.set(await runner.runAll(jobs)) }
            if let metrics {
                if let gateway = process.pushgateway { await metrics.push(to: gateway, logger: logger) }
                if let path = process.metricsTextfile { metrics.write(to: path, logger: logger) }
            }
            if let signal {
                throw Failure(message: "interrupted by signal \(signal); no partial backup was kept",
                              exitCode: 128 + signal)
            }
            let failed = box.value
            if !failed.isEmpty {
                let plural = failed.count == 1 ? "" : "s"
                throw Failure(message: "backup failed for job\(plural): \(failed.joined(separator: ", "))", exitCode: 1)
            }
        }
    }
}
