import Age
import Engine
import Foundation
import Testing
import TestSupport

/// The `age` stage against Debian's `age` tool, both ways: what we encrypt, `age -d` reads; what `age -r` or
/// `age -p` encrypts, our stage reads. For X25519 (one and several recipients, keys made by either side)
/// and scrypt, and payloads of 0 bytes, 1 byte, exactly one and two 64 KiB chunks, and 5 MB.
@Suite struct AgeInteropTests {
    static let sizes = [0, 1, 65_536, 131_072, 5_000_000]
    static let passphrase = "tests' passphrase: correct horse battery staple"

    static func payload(_ size: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(size)
        return (0..<size).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    static func stage(_ values: [String: String]) throws -> any Encryption {
        let factory = AgeEncryptionFactory()
        var settings: [String: String] = [:]
        for key in factory.keys { settings[key.name] = key.defaultValue }
        return try factory.make(PluginSettings(plugin: "age", values: settings.merging(values) { $1 }))
    }

    /// A key pair made by `age-keygen`: (identity file path, recipient).
    static func ageKeygen(in directory: String, _ name: String) async throws -> (file: String, recipient: String) {
        let file = "\(directory)/\(name).key"
        let made = try await Shell.run("/usr/bin/age-keygen", ["-o", file])
        #expect(made.status == 0, "\(made.stderr)")
        let recipient = try await Shell.run("/usr/bin/age-keygen", ["-y", file]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (file, recipient)
    }

    /// What age wrote to `path`: it creates its output only when it has plaintext to write.
    static func written(_ path: String, size: Int) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else { return size == 0 ? [] : nil }
        return Array(data)
    }

    static func ageWithTerminal(_ arguments: [String]) async throws -> Shell.Result {
        try await Shell.run("/usr/bin/python3", ["\(Paths.root)/Tests/AgeTests/age_tty.py", "/usr/bin/age"] + arguments,
                            environment: ["AGE_TEST_PASSPHRASE": passphrase])
    }

    @Test(arguments: sizes)
    func ageReadsWhatWeEncryptToSeveralRecipients(size: Int) async throws {
        let directory = try Paths.temporaryDirectory("age-out")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let theirs = try await Self.ageKeygen(in: directory, "theirs")
        let ours = AgeKeys.generate()
        let oursFile = "\(directory)/ours.key"
        try (ours.identity + "\n").write(toFile: oursFile, atomically: true, encoding: .utf8)
        let plain = Self.payload(size)
        let stage = try Self.stage(["recipients": "\(ours.recipient), \(theirs.recipient)"])
        try Data(try stage.makeEncoder().transformAll(plain)).write(to: URL(fileURLWithPath: "\(directory)/file.age"))
        for key in [oursFile, theirs.file] {
            let decrypted = try await Shell.run("/usr/bin/age", ["-d", "-i", key, "-o", "\(directory)/out", "\(directory)/file.age"])
            #expect(decrypted.status == 0, "age -d with \(key): \(decrypted.stderr)")
            #expect(Self.written("\(directory)/out", size: size) == plain)
            try? FileManager.default.removeItem(atPath: "\(directory)/out")
        }
        // A key that is not a recipient: age refuses it.
        let stranger = try await Self.ageKeygen(in: directory, "stranger")
        #expect(try await Shell.run("/usr/bin/age", ["-d", "-i", stranger.file, "\(directory)/file.age"]).status != 0)
    }

    @Test(arguments: sizes)
    func weReadWhatAgeEncryptsToSeveralRecipients(size: Int) async throws {
        let directory = try Paths.temporaryDirectory("age-in")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await Self.ageKeygen(in: directory, "first")
        let second = AgeKeys.generate()
        let plain = Self.payload(size)
        try Data(plain).write(to: URL(fileURLWithPath: "\(directory)/plain"))
        let encrypted = try await Shell.run("/usr/bin/age", ["-r", first.recipient, "-r", second.recipient, "-o", "\(directory)/file.age", "\(directory)/plain"])
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/file.age")))
        let record = StageRecord(kind: "encryption", name: "age", parameters: ["recipients": "\(first.recipient),\(second.recipient)"])
        for identity in [try String(contentsOfFile: first.file, encoding: .utf8), second.identity] {
            let stage = try Self.stage(["identity": identity, "recipients": second.recipient])
            #expect(try stage.makeDecoder(for: record).transformAll(file) == plain)
        }
        let stranger = try Self.stage(["identity": AgeKeys.generate().identity, "recipients": second.recipient])
        #expect(throws: BackupError.self) { try stranger.makeDecoder(for: record).transformAll(file) }
    }

    @Test(arguments: [0, 65_536, 131_072])
    func passphrasesBothWays(size: Int) async throws {
        let directory = try Paths.temporaryDirectory("age-scrypt")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plain = Self.payload(size)
        let stage = try Self.stage(["passphrase": Self.passphrase, "work_factor": "12"])
        try Data(try stage.makeEncoder().transformAll(plain)).write(to: URL(fileURLWithPath: "\(directory)/ours.age"))
        let decrypted = try await Self.ageWithTerminal(["-d", "-o", "\(directory)/ours.out", "\(directory)/ours.age"])
        #expect(decrypted.status == 0, "age -d: \(decrypted.stdout) \(decrypted.stderr)")
        #expect(Self.written("\(directory)/ours.out", size: size) == plain)

        try Data(plain).write(to: URL(fileURLWithPath: "\(directory)/plain"))
        let encrypted = try await Self.ageWithTerminal(["-p", "-o", "\(directory)/theirs.age", "\(directory)/plain"])
        #expect(encrypted.status == 0, "age -p: \(encrypted.stdout) \(encrypted.stderr)")
        let theirs = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/theirs.age")))
        let record = StageRecord(kind: "encryption", name: "age", parameters: ["passphrase": "scrypt"])
        #expect(try stage.makeDecoder(for: record).transformAll(theirs) == plain)
        let wrong = try Self.stage(["passphrase": "not it", "work_factor": "12"])
        #expect(throws: BackupError.self) { try wrong.makeDecoder(for: record).transformAll(theirs) }
    }

    /// `backup keygen` makes keys age-keygen agrees with, and never replaces a key file.
    @Test func keygenMakesKeysAgeAgreesWith() async throws {
        let directory = try Paths.temporaryDirectory("keygen")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "\(directory)/identity"
        let made = try await Shell.run(Paths.backup, ["keygen", "-o", file])
        #expect(made.status == 0, "\(made.stderr)")
        let recipient = try #require(made.stderr.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(recipient.hasPrefix("age1"))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        #expect(try await Shell.run("/usr/bin/age-keygen", ["-y", file]).stdout == recipient + "\n")
        #expect(try await Shell.run(Paths.backup, ["keygen", "-y", file]).stdout == recipient + "\n")
        let again = try await Shell.run(Paths.backup, ["keygen", "-o", file])
        #expect(again.status == 1 && again.stderr.contains("never replaces"), "\(again.stderr)")
        #expect(try await Shell.run("/usr/bin/age-keygen", ["-y", file]).stdout == recipient + "\n", "the key is unchanged")
        let printed = try await Shell.run(Paths.backup, ["keygen"])
        #expect(printed.status == 0 && printed.stdout.contains("AGE-SECRET-KEY-1") && printed.stdout.contains("# public key: age1"))
    }
}
