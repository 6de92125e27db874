import ArgumentParser
import Engine
import Foundation

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the stored backups of every job (or one).",
        discussion: """
            The ID column is what --backup takes (restore, verify, copy); so do the CREATED time, the file name \
            and a beginning of an ID only one backup has. A destination that cannot be listed is warned about \
            on stderr, the others are listed, and the exit status is 1.

            Examples:
              backup list
              backup list --job shop --from s3 --json
            """)

    @OptionGroup var options: CommonOptions

    @Option(name: .long, help: "List only this job's backups.")
    var job: String?

    @Option(name: .long, help: "List only what this destination of the job holds (as its `destination` names it).")
    var from: String?

    @Flag(name: .long, help: "Print a JSON array instead of a table.")
    var json = false

    /// A backup, or (with `problem` set and only `job`, `file` and `path`) something in the job's area
    /// that is not a whole backup.
    struct Entry: Encodable {
        var job: String
        /// What `--backup` takes: the UTC time in the file name (`20261206T001230Z`); nil for a problem.
        var id: String?
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
        /// The job's destinations that hold this backup, in the order configured (`path` is the first's).
        var destinations: [String]?
        /// The destination a problem was found at.
        var destination: String?
        /// The program and release that wrote the backup (the manifest's `written_by`).
        var writtenBy: String?

        enum CodingKeys: String, CodingKey {
            case job, id, file, path, bytes, sha256, created, database, format, compressor, stages, problem
            case destinations
            case destination
            case rawBytes = "raw_bytes"
            case writtenBy = "written_by"
        }
    }

    func run() async throws {
        try await reportingFailures {
            _ = options.bootstrapLogging()
            var entries: [Entry] = []
            var problems: [Entry] = []
            var unlisted: [String] = []
            var several = false
            // A whole-server job: its own backups (the server's roles), then each database's.
            for job in try await options.loadJobs(only: self.job).withDatabaseJobs(from: from) {
                let targets: [JobDestination]
                do {
                    targets = try from.map { [try job.destination(named: $0)] } ?? job.destinations
                } catch {
                    throw Failure(message: "\(error)", exitCode: 64)
                }
                several = several || targets.count > 1
                unlisted += await add(job, at: targets, to: &entries, problems: &problems)
            }
            json ? try printJSON(entries + problems) : printTable(entries, showDestinations: several)
            // What could be listed was; a destination that could not be is an error all the same.
            if !unlisted.isEmpty {
                throw Failure(message: "could not list \(unlisted.joined(separator: "; ")); the backups above "
                              + "are those of the destinations that answered", exitCode: 1)
            }
        }
    }

    /// Lists `job`'s backups at `targets` into `entries`, and what is damaged into `problems` (warned about);
    /// returns the destinations that could not be listed, each with why (also warned about at once).
    private func add(_ job: Job, at targets: [JobDestination], to entries: inout [Entry],
                     problems: inout [Entry]) async -> [String] {
        let catalog = await JobCatalog.build(job, at: targets)
        let unlisted = catalog.unlisted.map { failure in
            "job \(job.name) at \(failure.destination): \(failure.error)"
        }
        for failure in unlisted {
            FileHandle.standardError.write(Data("backup: warning: cannot list \(failure)\n".utf8))
        }
        for (target, problem) in catalog.problems {
            let warning = "backup: warning: job \(job.name)\(catalog.at(target)): \(problem.problem)\n"
            FileHandle.standardError.write(Data(warning.utf8))
            problems.append(Entry(job: job.name, file: problem.name, path: problem.location,
                                  problem: problem.problem, destination: target))
        }
        // Oldest first, as the catalog keeps them.
        entries += catalog.backups.map { backup in
            let record = backup.record
            return Entry(
                job: job.name, id: JobName.id(of: record.name, job: job.name), file: record.name,
                path: record.object.location, bytes: record.object.bytes,
                rawBytes: record.manifest.rawBytes, sha256: record.manifest.sha256,
                created: Timestamp.iso8601(record.created), database: record.manifest.database,
                format: record.manifest.format,
                compressor: record.manifest.stages.first { $0.kind == PluginKind.compressor.rawValue }?.name,
                stages: record.manifest.stages.map(\.name), destinations: backup.copies.map(\.target),
                writtenBy: record.manifest.writtenBy)
        }
        return unlisted
    }

    private func printJSON(_ entries: [Entry]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(entries), as: UTF8.self))
    }

    private func printTable(_ entries: [Entry], showDestinations: Bool) {
        // ID is what `--backup` takes (as is CREATED, or the file's name).
        var rows = [["JOB", "ID", "CREATED (UTC)", "SIZE", "RAW", "FILE"]] + entries.map {
            [$0.job, $0.id ?? "", $0.created ?? "", ByteCount.format($0.bytes ?? 0), ByteCount.format($0.rawBytes ?? 0),
             $0.path]
        }
        // With several destinations: which hold each backup (FILE is the first's copy).
        if showDestinations {
            rows = rows.enumerated().map { index, row in
                let holders = index == 0 ? "DESTINATIONS"
                    : (entries[index - 1].destinations ?? []).joined(separator: ",")
                return Array(row.dropLast()) + [holders, row.last ?? ""]
            }
        }
        for line in TextTable.lines(rows) { print(line) }
        if entries.isEmpty { print("(no backups yet)") }
    }
}
