import ArgumentParser
import Engine
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show at a glance whether every job has a recent backup that passed its verification.",
        discussion: """
            Reads the stores, so it answers where only CronJobs run. Exits 1 when a job has no backup, its \
            newest backup is older than its schedule allows (the next run plus status.grace), the newest \
            verification recorded failed, or a destination cannot be listed; 0 otherwise.

            Examples:
              backup status
              backup status --job shop --json
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "Show only this job.")
    var job: String?

    @Flag(name: .long, help: "Print a JSON array instead of a table.")
    var json = false

    /// One job at one destination, as `--json` prints it.
    struct Entry: Encodable {
        struct Backup: Encodable {
            var file: String
            var created: String
            var ageSeconds: Int
            var storedBytes: Int64
            var rawBytes: Int64

            enum CodingKeys: String, CodingKey {
                case file, created
                case ageSeconds = "age_seconds"
                case storedBytes = "stored_bytes"
                case rawBytes = "raw_bytes"
            }
        }

        struct Verification: Encodable {
            var file: String
            var created: String
            var result: String
            var verifiedAt: String?

            enum CodingKeys: String, CodingKey {
                case file, created, result
                case verifiedAt = "verified_at"
            }
        }

        var job: String
        var destination: String
        var state: JobStatus.State
        var backups: Int
        var newest: Backup?
        var previousStoredBytes: Int64?
        var verification: Verification?
        var nextRun: String?
        var dueBy: String?
        var runs: RunRecord?
        var lockHolder: String?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case job, destination, state, backups, newest, verification, runs, error
            case lockHolder = "lock_holder"
            case previousStoredBytes = "previous_stored_bytes"
            case nextRun = "next_run"
            case dueBy = "due_by"
        }

        init(_ status: JobStatus, now: Date) {
            job = status.job
            destination = status.destination
            state = status.state
            backups = status.backups
            newest = status.newest.map {
                Backup(file: $0.name, created: Timestamp.iso8601($0.created),
                       ageSeconds: Int(now.timeIntervalSince($0.created)), storedBytes: $0.object.bytes,
                       rawBytes: $0.manifest.rawBytes)
            }
            previousStoredBytes = status.previousStoredBytes
            verification = status.verification.map {
                Verification(file: $0.file, created: Timestamp.iso8601($0.created), result: $0.result,
                             verifiedAt: $0.verifiedAt.map(Timestamp.iso8601))
            }
            nextRun = status.nextRun.map(Timestamp.iso8601)
            dueBy = status.dueBy.map(Timestamp.iso8601)
            runs = status.runs
            lockHolder = status.lockHolder
            error = status.error
        }
    }

    func run() async throws {
        try await reportingFailures {
            _ = options.bootstrapLogging()
            let now = Date()
            var statuses: [JobStatus] = []
            for job in try options.loadJobs(only: job) {
                let catalog = await JobCatalog.build(job)
                statuses += JobStatus.of(job, catalog: catalog, now: now, grace: job.statusGrace,
                                         runs: await JobStatus.runRecords(of: job),
                                         lockHolders: await JobStatus.lockHolders(of: job))
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(statuses.map { Entry($0, now: now) }), as: UTF8.self))
            } else {
                Self.printTable(statuses, now: now)
            }
            let problems = statuses.filter(\.isProblem)
            if !problems.isEmpty {
                throw Failure(message: "\(problems.count) of \(statuses.count) not ok: "
                              + problems.map { "\($0.job) at \($0.destination) \($0.state.rawValue)" }
                                .joined(separator: ", "), exitCode: 1)
            }
        }
    }

    /// The table's columns, and each job's row: what the page `backup run` serves shows too.
    static let columns = ["JOB", "DESTINATION", "NEWEST (UTC)", "AGE", "SIZE", "CHANGE", "VERIFIED", "FAILED RUNS",
                          "NEXT RUN (UTC)", "STATE"]

    static func cells(_ status: JobStatus, now: Date) -> [String] {
        let newest = status.newest
        var change = "-"
        if let bytes = newest?.object.bytes, let previous = status.previousStoredBytes, previous > 0 {
            change = String(format: "%+.0f%%", (Double(bytes) / Double(previous) - 1) * 100)
        }
        var verified = "never"
        if let verification = status.verification {
            verified = verification.passed ? "passed" : "FAILED"
            if let when = verification.verifiedAt { verified += " \(Age.format(now.timeIntervalSince(when))) ago" }
            if verification.file != newest?.name { verified += " (older backup)" }
        }
        let created: String = newest.map { Timestamp.iso8601($0.created) } ?? "-"
        let age: String = newest.map { Age.format(now.timeIntervalSince($0.created)) } ?? "-"
        let size: String = newest.map { ByteCount.format($0.object.bytes) } ?? "-"
        let next: String = status.nextRun.map(Timestamp.iso8601) ?? "-"
        let state = status.state == .ok ? "ok" : status.state.rawValue.uppercased()
        // Runs that failed since the last that stored a backup here, and how long ago the last of them.
        var failed = status.runs.map { "\($0.failuresSinceSuccess)" } ?? "-"
        if let runs = status.runs, runs.failuresSinceSuccess > 0, let last = runs.lastFailure {
            failed += " (last \(Age.format(now.timeIntervalSince(last))) ago)"
        }
        return [status.job, status.destination, created, age, size, change, verified, failed, next, state]
    }

    /// What is wrong beyond the state: why a destination could not be listed, why a verification failed,
    /// why the last run failed (but for the jobs in `known`, whose failure is said elsewhere).
    static func notes(_ statuses: [JobStatus], known: Set<String> = []) -> [String] {
        statuses.flatMap { status in
            var notes: [String] = []
            if let error = status.error { notes.append("\(status.job) at \(status.destination): \(error)") }
            if let verification = status.verification, !verification.passed {
                notes.append("\(status.job) at \(status.destination): \(verification.file) \(verification.result)")
            }
            if let holder = status.lockHolder {
                notes.append("\(status.job) at \(status.destination): a run holds the lock: \(holder)")
            }
            if let runs = status.runs, runs.failuresSinceSuccess > 0, let error = runs.lastError,
               !known.contains(status.job) {
                notes.append("\(status.job) at \(status.destination): the last run failed: \(error)")
            }
            return notes
        }
    }

    private static func printTable(_ statuses: [JobStatus], now: Date) {
        for line in TextTable.lines([columns] + statuses.map { cells($0, now: now) }) { print(line) }
        for note in notes(statuses) { print(note) }
    }
}

/// A duration as people read it: its two largest units (`3d 4h`, `11h 2m`, `5m 3s`, `12s`).
enum Age {
    static func format(_ seconds: Double) -> String {
        let total = max(0, Int(seconds))
        let parts = [("d", total / 86_400), ("h", total / 3600 % 24), ("m", total / 60 % 60), ("s", total % 60)]
        guard let first = parts.firstIndex(where: { $0.1 > 0 }) else { return "0s" }
        return parts[first...].prefix(2).filter { $0.1 > 0 }.map { "\($0.1)\($0.0)" }.joined(separator: " ")
    }
}
