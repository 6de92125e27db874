import Engine
import Foundation
import Testing
import TestSupport

/// How a backup reaches the local volume, watched from outside the process: every file is fsynced before
/// its name appears and the directory after, so a power loss cannot leave a published name with lost
/// bytes; and what we write is readable by the owner and the group only (0640; the lock file 0660),
/// whatever the umask.
@Suite struct LocalPublishTests {
    /// One call strace saw: the syscall and its arguments, file descriptors shown with their paths (`-y`).
    struct Call {
        let name: String
        let arguments: String
    }

    /// The fsync, link and rename calls of `backup now` (and of its children), in the order they were made.
    static func tracedBackup(_ cli: BackupCLI) async throws -> (result: Shell.Result, calls: [Call]) {
        let trace = "\(cli.directory)/strace.out"
        let result = try await Shell.run("/usr/bin/strace", [
            "-f", "-qq", "-y", "-e", "signal=none", "-o", trace,
            "-e", "trace=fsync,fdatasync,link,linkat,rename,renameat,renameat2",
            Paths.backup, "now", "--config", cli.configPath,
        ], environment: cli.environment)
        // Lines are `PID name(arguments) = result`; a call another thread interrupted is split into
        // `name(arguments <unfinished ...>` and `<... name resumed>…`, and counts where it began.
        let calls = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").compactMap { line -> Call? in
            guard let open = line.firstIndex(of: "("), !line.contains("resumed>") else { return nil }
            let name = line[..<open].split(separator: " ").last.map(String.init) ?? ""
            return Call(name: name, arguments: String(line[line.index(after: open)...]))
        }
        return (result, calls)
    }

    @Test func filesAreSyncedBeforeTheirNameAppearsAndTheDirectoryAfter() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("publish_sync", rows: 200)
        let cli = try await BackupCLI(label: "publish-sync") { server.config(database: "publish_sync", directory: $0) }
        defer { cli.cleanUp() }
        let (result, calls) = try await Self.tracedBackup(cli)
        try #require(result.status == 0, "\(result.stderr)")
        let data = try #require(try cli.files().first { $0.hasSuffix(".sql.gz") })
        let backups = cli.backups
        func index(_ what: String, _ test: (Call) -> Bool) -> Int? {
            let found = calls.firstIndex(where: test)
            #expect(found != nil, "strace saw no \(what): \(calls.map { "\($0.name)(\($0.arguments.prefix(160))" })")
            return found
        }
        // Each file: written under a hidden .partial name, fsynced, then linked to its own name.
        for file in [data + ".globals.json", data + Manifest.suffix, data] {
            let partial = "\(backups)/.\(file).partial"
            let synced = index("fsync of \(partial)") {
                ["fsync", "fdatasync"].contains($0.name) && $0.arguments.contains(Self.descriptorOf(partial))
            }
            let linked = index("link of \(partial) to \(file)") {
                ["link", "linkat"].contains($0.name) && $0.arguments.contains("\"\(partial)\"") && $0.arguments.contains("\"\(backups)/\(file)\"")
            }
            if let synced, let linked { #expect(synced < linked, "\(file) got its name before its bytes were synced") }
        }
        // The data's name is what makes the backup visible; the directory entry is synced after it.
        let published = calls.lastIndex { ["link", "linkat"].contains($0.name) && $0.arguments.contains("\"\(backups)/\(data)\"") }
        let directorySynced = calls.lastIndex { $0.name == "fsync" && $0.arguments.contains(Self.descriptorOf(backups)) }
        #expect(published != nil && directorySynced != nil && directorySynced! > published!,
                "the directory was not synced after \(data) was published")
    }

    /// How strace -y shows a descriptor open on `path`: `N</path>`, matched after the number.
    static func descriptorOf(_ path: String) -> String { "<\(path)>" }

    /// The lock file is the one file a later run opens again for writing, perhaps as another uid of the
    /// group (OpenShift's pods): it alone is group-writable.
    @Test func whatWeWriteIsMode0640WhateverTheUmask() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("publish_mode", rows: 20)
        for umask in ["000", "077"] {
            // verify = after-backup rewrites the manifest (a file of its own, renamed over the first).
            let cli = try await BackupCLI(label: "publish-mode") {
                server.config(database: "publish_mode", directory: $0, extra: "verify = after-backup")
            }
            defer { cli.cleanUp() }
            let command = [Paths.backup, "now", "--config", cli.configPath].map(Shell.quote).joined(separator: " ")
            let result = try await Shell.sh("umask \(umask); exec \(command)", environment: cli.environment)
            try #require(result.status == 0, "\(result.stderr)")
            let files = try cli.allFiles()
            #expect(files.count == 5 && files.contains(".app.lock") && files.contains(".app.runs.json"), "\(files)")
            for file in files {
                let mode = try #require(try FileManager.default.attributesOfItem(atPath: cli.path(file))[.posixPermissions] as? Int)
                #expect(mode == (file == ".app.lock" ? 0o660 : 0o640), "umask \(umask): \(file) has mode \(String(mode, radix: 8))")
            }
        }
    }
}
