import Engine
import Foundation
import Logging
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Loading a dump through psql as a SQL script, in one transaction: a plain dump, and a custom dump whose
/// roles are mapped (`--map-role`), turned into that script by `pg_restore -f -` on the way. The script
/// passes through ``RoleRenamer``, which rewrites the mapped role names and stops any psql command that
/// pg_dump does not write (`\! cmd` would run in this pod).
extension PostgresSource {
    /// Loads the dump into `database`; returns rows per table as psql's COPY tags gave them (nil when they
    /// do not pair up with the dump's tables) and how many names were rewritten per source role.
    ///
    /// The tags spare a `count(*)` of every restored table afterwards, a second full read of the database.
    func loadScript(
        _ request: RestoreRequest, into database: String, toolMajor: Int, olderServer: Bool = false, feed: DumpFeed
    ) async throws -> (rows: [String: Int64]?, renamed: [String: Int]) {
        let map = request.options.roleMap
        let psql = try await clientTool("psql", atLeast: toolMajor)
        let archiveReader = request.manifest.format == "custom"
            ? try await clientTool("pg_restore", atLeast: toolMajor) : nil
        let tables = CounterBox(CopyRowCounter())
        let arguments = connectionArguments + ["--dbname", PostgresTarget.dbnameArgument(database),
                                               "-X", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
        let result = try await withChildEnvironment { environment in try await Subprocess.run(
            psql, arguments: Arguments(arguments), environment: environment,
            platformOptions: Self.platformOptions, input: .inputWriter, output: .sequence, error: .sequence
        ) { execution in
            async let errors = StderrTail.collect(execution.standardError)
            async let tags = CopyTags.collect(execution.standardOutput)
            let writer = ScriptWriter(map: map, tables: tables, olderServer: olderServer) {
                do { _ = try await execution.standardInputWriter.write($0) } catch { throw ScriptReaderStopped() }
            }
            var renamed: [String: Int] = [:]
            var archiveFailure: String?
            do {
                if let archiveReader {
                    (renamed, archiveFailure) = try await Self.script(from: archiveReader, environment: environment,
                                                                      feed: feed, into: writer)
                } else {
                    var own = writer
                    try await feed { chunk in try await own.write(chunk) }
                    try await own.finish()
                    renamed = own.renamed
                }
            } catch is ScriptReaderStopped {
                // psql stopped reading (it failed); its exit status and stderr say why.
            } catch {
                // A damaged backup, a refused command, pg_restore not starting: psql is stopped before it
                // reaches the end of its script, so its transaction is rolled back, never committed (and its
                // output ends, so this returns).
                try? execution.send(signal: .terminate)
                throw error
            }
            try? await execution.standardInputWriter.finish()
            return (try await errors, try await tags, renamed, archiveFailure)
        } }
        let (errors, tags, renamed, archiveFailure) = result.closureResult
        // psql first: when it fails, pg_restore is stopped, and its failure says nothing.
        guard result.terminationStatus.isSuccess else {
            throw BackupError(.sourceFailed, "psql failed restoring into \(database): \(errors)")
        }
        if let archiveFailure {
            throw BackupError(.sourceFailed,
                              "pg_restore could not read the backup restoring into \(database): \(archiveFailure)")
        }
        return (tables.counter.flatMap { CopyTags.pair(tables: $0.tables, tags: tags) }, renamed)
    }

    /// Runs `pg_restore -f -` over the archive `feed` streams, and its SQL through `writer` (in a task of its
    /// own, while this one feeds the archive). Returns the names rewritten, and pg_restore's error if it failed.
    nonisolated(nonsending) private static func script(
        from archiveReader: Executable, environment: Environment, feed: DumpFeed, into writer: ScriptWriter
    ) async throws -> ([String: Int], String?) {
        let result = try await Subprocess.run(
            archiveReader, arguments: ["--file", "-"], environment: environment,
            platformOptions: platformOptions, input: .inputWriter, output: .sequence, error: .sequence
        ) { execution in
            async let errors = StderrTail.collect(execution.standardError)
            async let renamed = writer.pump(execution.standardOutput) { try? execution.send(signal: .terminate) }
            // pg_restore stops reading when it fails, or when the script's writer did and stopped it.
            try await feeding(feed, write: { _ = try await execution.standardInputWriter.write($0) },
                              stop: { try? execution.send(signal: .terminate) })
            try? await execution.standardInputWriter.finish()
            return (try await renamed, try await errors)
        }
        let (renamed, errors) = result.closureResult
        return (renamed, result.terminationStatus.isSuccess ? nil : errors)
    }
}
