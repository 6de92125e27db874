import ArgumentParser
import Engine
import Foundation

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the stored backups of every job (or one).")

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "List only this job's backups.")
    var job: String?

    @Flag(name: .long, help: "Print a JSON array instead of a table.")
    var json = false

    /// A backup, or (with `problem` set and only `job`, `file` and `path`) something in the job's area
    /// that is not a whole backup.
    struct Entry: Encodable {
        var job: String
        var file: String
        var path: String
        var bytes: Int64?
        var rawBytes: Int64?
        var sha256: String?
        var created: String?
        var database: String?
        var format: String?
        var compressor: String?
        /// The chain of stages in the order applied, e.g. `["zstd"]`.
        var stages: [String]?
        var problem: String?

        enum CodingKeys: String, CodingKey {
            case job, file, path, bytes, sha256, created, database, format, compressor, stages, problem
            case rawBytes = "raw_bytes"
        }
    }

    func run() async throws {
        try await reportingFailures {
            _ = options.bootstrapLogging()
            var entries: [Entry] = []
            var problems: [Entry] = []
            for job in try options.loadJobs(only: self.job) {
                let catalog: Catalog
                do {
                    catalog = try await BackupCatalog.scan(job.name, in: job.destination)
                } catch {
                    throw Failure(message: "cannot list job \(job.name): \(error)", exitCode: 1)
                }
                for problem in catalog.problems {
                    FileHandle.standardError.write(Data("backup: warning: job \(job.name): \(problem.problem)\n".utf8))
                    problems.append(Entry(job: job.name, file: problem.name, path: problem.location, problem: problem.problem))
                }
                entries += catalog.records.map { record in
                    Entry(job: job.name, file: record.name, path: record.object.location, bytes: record.object.bytes,
                          rawBytes: record.manifest.rawBytes, sha256: record.manifest.sha256,
                          created: Timestamp.iso8601(record.created), database: record.manifest.database,
                          format: record.manifest.format,
                          compressor: record.manifest.stages.first { $0.kind == PluginKind.compressor.rawValue }?.name,
                          stages: record.manifest.stages.map(\.name))
                }
            }
            json ? try printJSON(entries + problems) : printTable(entries)
        }
    }

    private func printJSON(_ entries: [Entry]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(entries), as: UTF8.self))
    }

    private func printTable(_ entries: [Entry]) {
        let rows = [["JOB", "CREATED (UTC)", "SIZE", "RAW", "FILE"]] + entries.map {
            [$0.job, $0.created ?? "", ByteCount.format($0.bytes ?? 0), ByteCount.format($0.rawBytes ?? 0), $0.path]
        }
        for line in TextTable.lines(rows) { print(line) }
        if entries.isEmpty { print("(no backups yet)") }
    }
}
