import ArgumentParser
import Engine
import Foundation

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Connect to everything each job uses, as a backup would, and say what works: one line per check.",
        discussion: """
            Checks each job's server (its credentials, the database, the pg_dump a backup would use), each \
            destination (a probe object written and removed, then a listing) and each stage (a probe encoded \
            and decoded; an encryption's with the key given by --identity or --passphrase-file). Exit status 1 \
            when any check fails. Changes nothing.

            Examples:
              backup check --config /etc/backup/backup.conf
              backup check --job shop --identity restore-key.txt --json
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "Check only this job.")
    var job: String?

    @Flag(name: .long, help: "Print a JSON object (version 1, see README) instead of lines.")
    var json = false

    @OptionGroup var keys: KeyOptions

    /// `backup check --json`: the checks in the order run; `ok` is false when any failed.
    struct Report: Encodable {
        var version = 1
        var ok: Bool
        var checks: [Check]
    }

    struct Check: Encodable {
        var job: String
        var check: String
        var kind: String
        var ok: Bool
        var detail: String
    }

    func run() async throws {
        try await reportingFailures {
            let logger = options.bootstrapLogging()
            let jobs = try options.loadJobs(only: job)
            // The same jobs holding the keys that read backups: the decoders of the stage checks.
            let reading = try options.loadJobs(only: job, overrides: keys.overrides, forReading: true, quiet: true)
            var checks: [JobCheck] = []
            for (index, job) in jobs.enumerated() {
                let keysGiven = !keys.overrides.isEmpty || reading[index].settings.contains {
                    KeyOptions.keys.contains($0.key) && !$0.value.isEmpty
                }
                let found = await JobCheck.run(job, reading: reading[index], keysGiven: keysGiven, logger: logger)
                checks += found
            }
            let failed = checks.filter { !$0.ok }
            if json {
                let report = Report(ok: failed.isEmpty, checks: checks.map {
                    Check(job: $0.job, check: $0.subject, kind: $0.kind, ok: $0.ok, detail: $0.detail)
                })
                print(try JSONOutput.string(report))
            } else {
                printLines(checks)
                print("\(checks.count) checks: \(checks.count - failed.count) ok, \(failed.count) failed")
            }
            if !failed.isEmpty {
                throw Failure(message: "check failed: " + failed.map { "\($0.job) \($0.subject)" }
                    .joined(separator: ", "), exitCode: 1)
            }
        }
    }

    /// `shop  source  ok      server 15.18, …`: the checks, aligned.
    private func printLines(_ checks: [JobCheck]) {
        let rows = checks.map { [$0.job, $0.subject, $0.ok ? "ok" : "FAILED", $0.detail] }
        for line in TextTable.lines(rows) { print(line) }
    }
}
