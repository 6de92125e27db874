@testable import Age
import Crypto
import Engine
import Foundation
import Testing
import TestSupport

/// Encrypted backups end to end, with the real `backup` command and PostgreSQL: every format and compressor
/// with `encryption = age` restores to an identical database; Debian's `age` reads what we store and we
/// read what it encrypted; a pod holding only the recipient cannot restore; damage anywhere fails clearly
/// and leaves no database behind.
@Suite struct AgeCLITests {
    struct Case: CustomStringConvertible, Sendable {
        var compressor: String
        var format: String
        var suffix: String
        var decompress: String
        var load: String
        var description: String { "\(format)+\(compressor)+age" }
    }

    static let cases = [
        Case(compressor: "gzip", format: "plain", suffix: ".sql.gz.age", decompress: "gunzip -c", load: "psql -X -q -v ON_ERROR_STOP=1"),
        Case(compressor: "zstd", format: "plain", suffix: ".sql.zst.age", decompress: "zstd -dc", load: "psql -X -q -v ON_ERROR_STOP=1"),
        Case(compressor: "none", format: "plain", suffix: ".sql.age", decompress: "cat", load: "psql -X -q -v ON_ERROR_STOP=1"),
        Case(compressor: "gzip", format: "custom", suffix: ".dump.gz.age", decompress: "gunzip -c", load: "pg_restore --exit-on-error -d"),
        Case(compressor: "zstd", format: "custom", suffix: ".dump.zst.age", decompress: "zstd -dc", load: "pg_restore --exit-on-error -d"),
        Case(compressor: "none", format: "custom", suffix: ".dump.age", decompress: "cat", load: "pg_restore --exit-on-error -d"),
    ]

    /// A key pair in `directory`: the identity file (as a restore Job mounts it) and the recipient.
    static func keyPair(in directory: String, _ name: String = "identity") throws -> (file: String, recipient: String) {
        let (identity, recipient) = AgeKeys.generate()
        let file = "\(directory)/\(name)"
        try "# created by the tests\n\(identity)\n".write(toFile: file, atomically: true, encoding: .utf8)
        return (file, recipient)
    }

    @Test(arguments: cases)
    func encryptedBackupRestoresToAnIdenticalDatabase(_ c: Case) async throws {
        let server = try await PostgresServer.shared
        let source = "age_src_\(c.format)_\(c.compressor)"
        try await server.makeSampleDatabase(source)
        let keys = try Paths.temporaryDirectory("age-keys")
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let key = try Self.keyPair(in: keys)
        let other = try Self.keyPair(in: keys, "other")
        let cli = try await BackupCLI(label: "age") {
            server.config(database: source, directory: $0, extra: """
                compressor = \(c.compressor)
                postgres.format = \(c.format)
                encryption = age
                age.recipients = \(key.recipient), \(other.recipient)
                """)
        }
        defer { cli.cleanUp() }
        let made = try await cli.run("now")
        #expect(made.status == 0, "\(made.stderr)")
        let files = try cli.files()
        let data = try #require(files.first { $0.hasSuffix(c.suffix) }, "no \(c.suffix) in \(files)")
        let manifest = try cli.manifest(of: data)
        #expect(manifest.stages.map(\.name) == [c.compressor, "age"])
        #expect(manifest.stages.last?.kind == "encryption")
        #expect(manifest.stages.last?.parameters == ["recipients": "\(key.recipient),\(other.recipient)"])
        let stored = Array(try Data(contentsOf: URL(fileURLWithPath: cli.path(data))))
        #expect(manifest.sha256 == SHA256.hash(data: stored).map { String(format: "%02x", $0) }.joined(), "the SHA-256 is of the encrypted bytes")
        #expect(stored.starts(with: Array("age-encryption.org/v1\n".utf8)))
        let manifestText = try String(contentsOfFile: cli.path(data + Manifest.suffix), encoding: .utf8)
        #expect(!manifestText.contains("AGE-SECRET-KEY"), "no identity in the manifest")

        let original = try await server.dumpForComparison(source)
        let target = "age_dst_\(c.format)_\(c.compressor)"
        let restored = try await cli.run("restore", "--to-database", target, "--identity", key.file)
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameDump(try await server.dumpForComparison(target), original)

        // Debian's age with the other recipient's key, then the usual tools, with nothing of ours.
        let byHand = "\(target)_age"
        try await server.makeEmptyDatabase(byHand)
        let command = "age -d -i \(Shell.quote(other.file)) \(Shell.quote(cli.path(data))) | \(c.decompress) | \(c.load) \(byHand)"
        let manual = try await Shell.run("/bin/bash", ["-o", "pipefail", "-c", command], environment: server.superuserEnvironment)
        #expect(manual.status == 0, "\(command): \(manual.stderr)")
        expectSameDump(try await server.dumpForComparison(byHand), original)
    }

    /// A file that Debian's `age -r` encrypted (to several recipients) in place of ours restores as well.
    @Test func ageEncryptedFileRestores() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("age_theirs_src")
        let keys = try Paths.temporaryDirectory("age-keys")
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let key = try Self.keyPair(in: keys)
        let cli = try await BackupCLI(label: "age-theirs") {
            server.config(database: "age_theirs_src", directory: $0, extra: "compressor = zstd\nencryption = age\nage.recipients = \(key.recipient)")
        }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let data = try #require(try cli.files().first { $0.hasSuffix(".sql.zst.age") })
        let second = try Self.keyPair(in: keys, "second")
        let reencrypt = "age -d -i \(Shell.quote(key.file)) \(Shell.quote(cli.path(data))) | age -r \(second.recipient) -r \(key.recipient) -o \(Shell.quote(cli.path(data + ".new")))"
        #expect(try await Shell.run("/bin/bash", ["-o", "pipefail", "-c", reencrypt]).status == 0)
        try Self.replace(cli, data, with: Array(try Data(contentsOf: URL(fileURLWithPath: cli.path(data + ".new")))))
        try FileManager.default.removeItem(atPath: cli.path(data + ".new"))
        let restored = try await cli.run("restore", "--to-database", "age_theirs_dst", "--identity", second.file)
        #expect(restored.status == 0, "\(restored.stderr)")
        expectSameDump(try await server.dumpForComparison("age_theirs_dst"), try await server.dumpForComparison("age_theirs_src"))
    }

    /// Stores `bytes` as `data` and records their SHA-256 and size in its manifest, as someone able to write
    /// both would: only the encryption's own authentication can then catch the change.
    static func replace(_ cli: BackupCLI, _ data: String, with bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: cli.path(data)))
        var manifest = try cli.manifest(of: data)
        manifest.sha256 = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        manifest.storedBytes = Int64(bytes.count)
        try Data(try manifest.encoded()).write(to: URL(fileURLWithPath: cli.path(data + Manifest.suffix)))
    }

    /// The backup pod's config holds only the recipient: it backs up, lists and checks checksums, but
    /// cannot restore or verify by restoring, and says what is missing; `verify = after-backup` is refused.
    @Test func podWithOnlyTheRecipientCannotRestore() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("age_pod_src", rows: 100)
        let keys = try Paths.temporaryDirectory("age-keys")
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let key = try Self.keyPair(in: keys)
        let cli = try await BackupCLI(label: "age-pod") {
            server.config(database: "age_pod_src", directory: $0, extra: "compressor = zstd\nencryption = age\nage.recipients = \(key.recipient)")
        }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        #expect(try await cli.listed().count == 1)
        let checked = try await cli.run("verify", "--checksums-only")
        #expect(checked.status == 0 && checked.stdout.contains("checksum OK"), "\(checked.stdout) \(checked.stderr)")

        let restore = try await cli.run("restore", "--to-database", "age_pod_dst")
        #expect(restore.status == 1)
        let line = Self.errorLine(restore.stderr)
        #expect(line.hasPrefix("backup: restore failed: ") && line.contains(key.recipient) && line.contains("--identity")
                && line.contains("age.identity_file"), "\(restore.stderr)")
        #expect(!restore.stdout.contains("Restoring") && !restore.stdout.contains("create database"), "nothing was started: \(restore.stdout)")
        #expect(try await !server.databases().contains("age_pod_dst"))
        let verify = try await cli.run("verify")
        #expect(verify.status == 1 && verify.stderr.contains("--identity"), "\(verify.stdout) \(verify.stderr)")
        #expect(try await cli.run("verify", "--identity", key.file).status == 0)

        try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "\nverify = after-backup\n").write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let refused = try await cli.run("now")
        #expect(refused.status == 78 && refused.stderr.contains("verify") && refused.stderr.contains("age.identity_file"), "\(refused.stderr)")
        // With the identity in the config (a restore Job's), after-backup verification works.
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "age.identity_file = \(key.file)\n").write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        let verified = try await cli.run("now")
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(try await cli.listed().count == 2)
    }

    /// Backups made with a passphrase, before the job moved to recipients, are read with today's
    /// production config and `--passphrase-file`; given only an identity, the restore says what it needs
    /// before it creates anything.
    @Test func oldPassphraseBackupsRestoreWithTheProductionConfig() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("age_old_src", rows: 100)
        let keys = try Paths.temporaryDirectory("age-old-keys")
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let key = try Self.keyPair(in: keys)
        let passphraseFile = "\(keys)/passphrase"
        try "old secret\n".write(toFile: passphraseFile, atomically: true, encoding: .utf8)
        let cli = try await BackupCLI(label: "age-old") {
            server.config(database: "age_old_src", directory: $0, extra: "encryption = age\nage.passphrase_file = \(passphraseFile)\nage.work_factor = 10")
        }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let old = try #require(try cli.files().first { $0.hasSuffix(".age") })
        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "age.passphrase_file = \(passphraseFile)", with: "age.recipients = \(key.recipient)")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        #expect(try await cli.run("now").status == 0)

        let wrongKind = try await cli.run("restore", "--backup", old, "--identity", key.file, "--to-database", "age_old_dst")
        #expect(wrongKind.status == 1 && wrongKind.stderr.contains("it needs its passphrase") && wrongKind.stderr.contains("--passphrase-file"),
                "\(wrongKind.stderr)")
        #expect(try await !server.databases().contains("age_old_dst"), "nothing is created for a key that cannot open the backup")
        let restored = try await cli.run("restore", "--backup", old, "--passphrase-file", passphraseFile, "--to-database", "age_old_dst")
        #expect(restored.status == 0, "\(restored.stdout) \(restored.stderr)")
        let verified = try await cli.run("verify", "--backup", "all", "--passphrase-file", passphraseFile, "--identity", key.file)
        #expect(verified.status == 0 && verified.stdout.components(separatedBy: "tables match").count == 3, "\(verified.stdout) \(verified.stderr)")
    }

    enum Damage: String, CaseIterable, Sendable {
        case wrongKey, flippedHeader, alteredMAC, flippedMiddleChunk, flippedLastChunk, truncated, lastChunkRemoved
    }

    /// What the error says for each: a header byte flipped in the stanza's body fails to open it.
    static let reasons: [Damage: String] = [
        .wrongKey: "no key given opens it", .flippedHeader: "age header is damaged", .alteredMAC: "its MAC does not match", .flippedMiddleChunk: "chunk 2 does not authenticate",
        .flippedLastChunk: "the last chunk", .truncated: "the last chunk", .lastChunkRemoved: "its last chunk is missing",
    ]

    /// Replaces the first letter of the `line`-th line after the line that starts with `prefix` (0: that
    /// line itself, after the prefix) with another base64 letter.
    static func replaceLetter(after prefix: String, line: Int, in bytes: inout [UInt8]) {
        var index = bytes.firstRange(of: Array(prefix.utf8))!.lowerBound
        if line == 0 { index += prefix.utf8.count }
        for _ in 0..<line { index = bytes[index...].firstIndex(of: 0x0a)! + 1 }
        bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    }

    /// The last line of stderr: the command's one-line error (log lines come before it).
    static func errorLine(_ stderr: String) -> String {
        stderr.split(separator: "\n").last.map(String.init) ?? ""
    }

    /// Each kind of damage (with the manifest rewritten to match, so the checksum cannot catch it first):
    /// a one-line decryption error, and neither the target nor a scratch database left.
    @Test(arguments: Damage.allCases)
    func damageFailsClearlyAndLeavesNoDatabase(_ damage: Damage) async throws {
        let server = try await PostgresServer.shared
        let source = "age_dmg_\(damage.rawValue.lowercased())"
        let target = source + "_dst"
        try await server.makeSampleDatabase(source, rows: 20_000)
        let keys = try Paths.temporaryDirectory("age-keys")
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let key = try Self.keyPair(in: keys)
        let stranger = try Self.keyPair(in: keys, "stranger")
        let cli = try await BackupCLI(label: "age-dmg") {
            server.config(database: source, directory: $0, extra: "compressor = none\nencryption = age\nage.recipients = \(key.recipient)")
        }
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let data = try #require(try cli.files().first { $0.hasSuffix(".sql.age") })
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: cli.path(data))))
        let header = try #require(try AgeHeader.parse(bytes[...])).length
        let start = header + AgeStream.nonceSize
        let sealed = AgeStream.chunkSize + AgeStream.tagSize
        let chunks = (bytes.count - start + sealed - 1) / sealed
        try #require(chunks >= 3, "\(chunks) chunks; the test needs a middle one")
        var identity = key.file
        switch damage {
        case .wrongKey: identity = stranger.file
        // Another base64 letter at the start of the stanza's body (the wrapped file key) and of the MAC, so
        // the header still parses and only the cryptography can tell.
        case .flippedHeader: Self.replaceLetter(after: "-> X25519 ", line: 1, in: &bytes)
        case .alteredMAC: Self.replaceLetter(after: "--- ", line: 0, in: &bytes)
        case .flippedMiddleChunk: bytes[start + sealed + 1000] ^= 0x01
        case .flippedLastChunk: bytes[bytes.count - 20] ^= 0x01
        case .truncated: bytes.removeLast(1000)
        case .lastChunkRemoved: bytes.removeLast(bytes.count - (start + (chunks - 1) * sealed))
        }
        if damage != .wrongKey { try Self.replace(cli, data, with: bytes) }
        let restore = try await cli.run("restore", "--to-database", target, "--identity", identity)
        #expect(restore.status == 1, "\(damage): \(restore.stderr)")
        // Logs go to stderr too; the error is its last line, and says what failed and why.
        let line = Self.errorLine(restore.stderr)
        #expect(line.hasPrefix("backup: restore failed: cannot decrypt the backup"), "\(damage): \(restore.stderr)")
        #expect(line.contains(Self.reasons[damage]!), "\(damage): \(line)")
        #expect(line.components(separatedBy: Self.reasons[damage]!).count == 2, "said once: \(line)")
        if damage == .wrongKey { #expect(line.contains(key.recipient) && line.contains(stranger.recipient)) }
        let verify = try await cli.run("verify", "--identity", identity)
        #expect(verify.status == 1, "\(damage): \(verify.stdout)")
        let left = try await server.databases().filter { $0.hasPrefix(source + "_") }
        #expect(left.isEmpty, "\(damage): no target, work or scratch database is left: \(left)")
    }
}
