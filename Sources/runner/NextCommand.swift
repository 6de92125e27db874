import ArgumentParser
import Engine
import Foundation

struct NextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print when `backup run`, started now, would back up each job: at start, then the next times.",
        discussion: """
            Times are UTC (…Z), or in the job's timezone with its offset when the job sets one. Whether a job \
            runs at start is decided as `backup run` decides it: an interval job always; a scheduled one with \
            catch_up when its newest backup (at any destination) is older than one period.

            Examples:
              backup next --count 3
              backup next --json
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "How many run times per job.")
    var count: Int = 5

    @Flag(name: .long, help: "Print a JSON object (version 1, see README) instead of text.")
    var json = false

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

    /// `backup next --json`.
    struct Report: Encodable {
        var version = 1
        var jobs: [Entry]
    }

    struct Entry: Encodable {
        var job: String
        /// `every 6h` or `schedule 30 1 * * *`.
        var rule: String
        var timezone: String
        /// Whether `backup run` started now backs the job up at once.
        var atStart: Bool
        /// The next run times after that, ISO 8601 (UTC, or in `timezone` with its offset).
        var runs: [String]

        enum CodingKeys: String, CodingKey {
            case job, rule, timezone, runs
            case atStart = "at_start"
        }
    }

    func run() async throws {
        try await reportingFailures {
            _ = options.bootstrapLogging()
            let now = Date()
            var entries: [Entry] = []
            for job in try options.loadJobs() {
                // As `backup run` decides it: from the newest backup at any destination.
                var atStart = true
                if job.schedule != nil {
                    let newest = await JobCatalog.build(job).backups.map(\.record.created).max()
                    atStart = job.isDueAtStart(now: now, newestBackup: newest)
                }
                var runs: [String] = []
                var time = now
                for _ in 0..<count {
                    guard let next = job.nextRun(after: time) else { break }
                    runs.append(Timestamp.local(next, in: job.timeZone))
                    time = next
                }
                let rule = job.schedule.map { "schedule \($0)" } ?? "every \(Self.duration(job.interval))"
                entries.append(Entry(job: job.name, rule: rule, timezone: Timestamp.zoneName(job.timeZone),
                                     atStart: atStart, runs: runs))
            }
            if json { return print(try JSONOutput.string(Report(jobs: entries))) }
            for entry in entries {
                print("[\(entry.job)] \(entry.rule), timezone \(entry.timezone)")
                if entry.atStart { print("  at start (backup run backs it up at once)") }
                for run in entry.runs { print("  \(run)") }
                if entry.runs.count < count { print("  (no further runs)") }
            }
        }
    }
}
