import Engine
import PluginSupport
import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Loading a custom-format dump with pg_restore, which talks to the server itself: streamed in one
/// transaction, or, from a local file it can seek in, with one job per core. (A plain dump, or any dump
/// whose roles are mapped, loads through psql: ``loadScript``.)
extension PostgresSource {
    /// Streams a custom dump into `pg_restore --single-transaction`.
    func loadArchive(into database: String, toolMajor: Int, feed: DumpFeed) async throws {
        let arguments = connectionArguments
            + ["--dbname", PostgresTarget.dbnameArgument(database), "--exit-on-error", "--single-transaction"]
        let executable = try await clientTool("pg_restore", atLeast: toolMajor)
        let result = try await withChildEnvironment { environment in try await Subprocess.run(
            executable, arguments: Arguments(arguments), environment: environment,
            platformOptions: Self.platformOptions, input: .inputWriter, output: .discarded, error: .sequence
        ) { execution in
            async let errors = StderrTail.collect(execution.standardError)
            try await Self.feeding(feed, write: { _ = try await execution.standardInputWriter.write($0) },
                                   stop: { try? execution.send(signal: .terminate) })
            try? await execution.standardInputWriter.finish()
            return try await errors
        } }
        guard result.terminationStatus.isSuccess else {
            throw BackupError(.sourceFailed, "pg_restore failed restoring into \(database): \(result.closureResult)")
        }
    }

    /// Streams `feed` into a tool through `write`. The tool no longer reading (it failed) is left for its
    /// exit status and stderr to report. Any other failure (a damaged backup) is thrown after `stop` ends the
    /// tool before it reaches the end of its input, so its transaction is rolled back, never committed (and
    /// its output ends, so the caller's readers return).
    nonisolated(nonsending) static func feeding(
        _ feed: DumpFeed, write: @escaping @Sendable ([UInt8]) async throws -> Void, stop: () -> Void
    ) async throws {
        do {
            try await feed(write)
        } catch is SubprocessError {
        } catch {
            stop()
            throw error
        }
    }

    /// A custom dump in a local file pg_restore can seek in (stored uncompressed on a volume, or a scratch
    /// copy): one `pg_restore --jobs`, which loads tables side by side and builds each table's indexes as
    /// soon as its data is in; returns how long the data took (until the last table's data was in, from
    /// pg_restore's `--verbose` lines) and what came after it (the remaining indexes and constraints). Not
    /// one transaction: a failure is undone by dropping the database, as every failed restore is.
    func parallelRestore(_ file: String, into database: String, toolMajor: Int, jobs: Int) async throws
        -> [RestorePhase]
    {
        let executable = try await clientTool("pg_restore", atLeast: toolMajor)
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await withChildEnvironment { environment in try await Subprocess.run(
            executable,
            arguments: Arguments(connectionArguments + [
                "--dbname", PostgresTarget.dbnameArgument(database), "--exit-on-error", "--verbose",
                "--jobs", String(jobs), file,
            ]),
            environment: environment, platformOptions: Self.platformOptions, input: .none, output: .discarded,
            error: .sequence
        ) { execution in try await RestoreProgress.watch(execution.standardError, clock: clock) } }
        let (dataDone, errors) = result.closureResult
        guard result.terminationStatus.isSuccess else {
            throw BackupError(.sourceFailed, "pg_restore --jobs \(jobs) failed restoring into \(database): \(errors)")
        }
        let end = clock.now
        let data = (dataDone ?? end) - start
        return [RestorePhase("data", seconds: data.inSeconds),
                RestorePhase("indexes and constraints after it", seconds: (end - start - data).inSeconds)]
    }

    /// A custom dump pg_restore cannot seek in (in object storage, or compressed or encrypted by our stages):
    /// decoded once into a scratch file (``ScratchFile``, removed in every case), then restored in parallel.
    func scratchRestore(_ request: RestoreRequest, into database: String, toolMajor: Int, feed: DumpFeed)
        async throws -> [RestorePhase]
    {
        let scratch = try ScratchFile(in: ScratchFile.directory(request.options.scratchDirectory))
        defer { scratch.remove() }
        let clock = ContinuousClock()
        let start = clock.now
        try await feed { chunk in try scratch.write(chunk) }
        scratch.close()
        let decoded = RestorePhase("fetch and decode", seconds: (clock.now - start).inSeconds)
        return [decoded] + (try await parallelRestore(scratch.path, into: database, toolMajor: toolMajor,
                                                      jobs: request.options.parallelism))
    }

    /// psql or pg_restore from beside the pg_dump the locator picks for `major` (the oldest at least that
    /// new), else from PATH.
    func clientTool(_ name: String, atLeast major: Int) async throws -> Executable {
        if let tool = try? await PgDumpLocator.find(serverMajor: major, override: pgDumpOverride) {
            let sibling = URL(fileURLWithPath: tool.path).deletingLastPathComponent().appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: sibling) { return .path(FilePath(sibling)) }
        }
        return .name(name)
    }
}
