import Foundation
import Testing
import TestSupport

/// The database password reaches psql and pg_restore as it reaches pg_dump: through a file that lives only
/// in the backup process's memory (`PGPASSFILE=/proc/<pid>/fd/<n>`), never in their arguments (what `ps`
/// shows) or environment, and never on disk, not even after the restore is killed.
@Suite struct RestorePasswordTests {
    /// `pg_dump`, `psql` and `pg_restore` stand-ins in `directory`, given as `postgres.pg_dump` so that a
    /// restore takes psql and pg_restore from beside it. Each records its arguments and environment in
    /// `calls/<tool>.<pid>`, then runs the real tool; while a file `hold` exists, psql and pg_restore add
    /// their pid to `held` and hang instead.
    static func recordingTools(in directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: "\(directory)/calls", withIntermediateDirectories: true)
        for tool in ["pg_dump", "psql", "pg_restore"] {
            let path = "\(directory)/\(tool)"
            try """
                #!/bin/sh
                directory=$(dirname "$0")
                { printf '%s\\n' "$@"; echo '--- environment'; env; } > "$directory/calls/\(tool).$$"
                if [ "\(tool)" != pg_dump ] && [ -e "$directory/hold" ]; then echo $$ >> "$directory/held"; exec sleep 600; fi
                exec \(Shell.quote(Paths.pgTool(tool))) "$@"
                """.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
        return "\(directory)/pg_dump"
    }

    /// What the stand-ins recorded: tool, arguments and environment of each call (`--version` included: the
    /// backup runs it to choose a pg_dump, with `PATH` alone).
    static func calls(in directory: String) throws -> [(tool: String, arguments: String, environment: String)] {
        try FileManager.default.contentsOfDirectory(atPath: "\(directory)/calls").sorted().compactMap { name in
            let text = try String(contentsOfFile: "\(directory)/calls/\(name)", encoding: .utf8)
            let parts = text.components(separatedBy: "--- environment\n")
            guard parts.count == 2 else { return nil }
            return (String(name.prefix { $0 != "." }), parts[0], parts[1])
        }
    }

    /// Every call got the password from the in-memory file, and from nothing else.
    static func expectPasswordOnlyInMemory(_ calls: [(tool: String, arguments: String, environment: String)], password: String,
                                           sourceLocation: SourceLocation = #_sourceLocation) {
        for call in calls {
            // Reduced to booleans first, so a failure does not print what it found.
            let inArguments = call.arguments.contains(password), inEnvironment = call.environment.contains(password)
            #expect(!inArguments, "\(call.tool)'s arguments hold the password", sourceLocation: sourceLocation)
            #expect(!inEnvironment, "\(call.tool)'s environment holds the password", sourceLocation: sourceLocation)
            let names = call.environment.split(separator: "\n").filter { $0.hasPrefix("PG") }.map { $0.prefix { $0 != "=" } }
            // `--version` connects nowhere and is given no password at all.
            if call.arguments == "--version\n" {
                #expect(names.isEmpty, "\(call.tool) --version got the variables \(names)", sourceLocation: sourceLocation)
                continue
            }
            let passFile = call.environment.contains("\nPGPASSFILE=/proc/") || call.environment.hasPrefix("PGPASSFILE=/proc/")
            #expect(passFile && !names.contains("PGPASSWORD"), "\(call.tool) got the variables \(names)", sourceLocation: sourceLocation)
        }
    }

    /// A plain dump restores through psql, a compressed custom one through pg_restore reading the stream, an
    /// uncompressed custom one through pg_restore reading the file; verify restores the same ways.
    @Test(arguments: [("plain", "psql", "gzip"), ("custom", "pg_restore", "gzip"), ("custom", "pg_restore", "none")])
    func restoreToolsGetThePasswordOnlyFromMemory(_ format: String, _ tool: String, _ compressor: String) async throws {
        let server = try await PostgresServer.shared
        let database = "pw_\(format)_\(compressor)"
        try await server.makeSampleDatabase(database, rows: 50)
        let cli = try await BackupCLI(label: "pw-\(format)") { directory in
            server.config(database: database, directory: directory,
                          extra: "postgres.format = \(format)\ncompressor = \(compressor)")
        }
        defer { cli.cleanUp() }
        let tools = try Self.recordingTools(in: "\(cli.directory)/tools")
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "\npostgres.pg_dump = \(tools)\n")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        #expect(try await cli.run("now").status == 0)
        let restored = try await cli.run("restore", "--to-database", database + "_copy")
        #expect(restored.status == 0, "\(restored.stderr)")
        let verified = try await cli.run("verify")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        let calls = try Self.calls(in: "\(cli.directory)/tools")
        // The restore and the verify each ran the tool through the stand-in, so the checks below saw it.
        #expect(calls.filter { $0.tool == tool }.count >= 2, "\(calls.map(\.tool))")
        Self.expectPasswordOnlyInMemory(calls, password: server.password)
        for output in [restored.stdout, restored.stderr, verified.stdout, verified.stderr] {
            #expect(!output.contains(server.password))
        }
    }

    /// A restore killed (SIGKILL) while psql loads leaves the password nowhere on disk: the file psql was
    /// told to read lived in the killed process and is gone with it, and no temporary file holds it.
    @Test func aKilledRestoreLeavesThePasswordNowhere() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("pw_killed", rows: 50)
        let cli = try await BackupCLI(label: "pw-killed") { server.config(database: "pw_killed", directory: $0) }
        defer { cli.cleanUp() }
        let toolDirectory = "\(cli.directory)/tools"
        let tools = try Self.recordingTools(in: toolDirectory)
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "\npostgres.pg_dump = \(tools)\n")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        #expect(try await cli.run("now").status == 0)

        _ = FileManager.default.createFile(atPath: "\(toolDirectory)/hold", contents: nil)
        let temporary = "\(cli.directory)/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        var restoring = cli
        restoring.environment["TMPDIR"] = temporary
        let restore = try await Background.backup(restoring, "restore", "--to-database", "pw_killed_copy")
        defer { restore.end() }
        var held: [pid_t] = []
        defer { for pid in held where Processes.isRunning(pid) { kill(pid, SIGKILL) } }
        try await waitUntil("psql to be started by the restore") {
            held = ((try? String(contentsOfFile: "\(toolDirectory)/held", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { pid_t($0) }
            return !held.isEmpty
        }
        let (killed, _) = try await restore.stop(SIGKILL)
        #expect(killed.status == 137)

        let psql = try #require(try Self.calls(in: toolDirectory).first { $0.tool == "psql" })
        Self.expectPasswordOnlyInMemory([psql], password: server.password)
        let passFile = try #require(psql.environment.split(separator: "\n").first { $0.hasPrefix("PGPASSFILE=") }?.dropFirst("PGPASSFILE=".count))
        #expect(passFile.hasPrefix("/proc/\(restore.pid)/fd/"), "the file is the restore's own: \(passFile)")
        #expect(!FileManager.default.fileExists(atPath: String(passFile)), "\(passFile) outlived the restore")
        // Nothing the run could write to (its temporary directory, the backups, the config's directory)
        // holds it, nor do the stand-ins' records of every call (`pg_dump --version` included).
        let found = try await Shell.run("/bin/grep", ["-rlF", "--", server.password, cli.directory])
        #expect(found.status == 1 && found.stdout.isEmpty, "the password is on disk in \(found.stdout)")
    }
}
