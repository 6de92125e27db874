@testable import Engine
import Foundation
import Testing

/// The `encryption` role: optional, applied after the compressor, recorded in the manifest, and undone on
/// restore with the keys of whatever config reads the backup, which is refused before the source is touched
/// when it holds none.
@Suite("Encryption role")
struct EncryptionRoleTests {
    static func load(_ text: String, files: [String: String] = [:]) throws -> [Job] {
        let document = try ConfigDocument.parse(text, file: "jobs.conf", environment: [:])
        return try JobLoader(registry: .test) { path in
            guard let contents = files[path] else { throw CocoaError(.fileReadNoSuchFile) }
            return contents
        }.load(document)
    }

    static func error(_ text: String) -> ConfigError? {
        do {
            _ = try load(text)
            return nil
        } catch let error as ConfigError {
            return error
        } catch {
            return nil
        }
    }

    static let base = "fake.user = backup\nfake.database = app\n"

    @Test("without `encryption` (or with none) a job has its compressor only; with one, it comes second")
    func chain() throws {
        #expect(try Self.load(Self.base)[0].stages.map(\.kind) == [.compressor])
        #expect(try Self.load(Self.base + "encryption = none\n")[0].stages.map(\.kind) == [.compressor])
        let job = try Self.load(Self.base + "encryption = shift\nshift.key = 7\n")[0]
        #expect(job.stages.map(\.kind) == [.compressor, .encryption])
        #expect(job.stageExtensions == ["fz", "shift"])
        #expect(job.stageRecords.last == StageRecord(kind: "encryption", name: "shift", parameters: ["key": "7"]))
        #expect(PluginKind.stages == [.compressor, .encryption])
    }

    @Test("config errors name the key and what to do")
    func errors() {
        let unknown = Self.error(Self.base + "encryption = rot13\n")
        #expect(unknown?.key == "encryption" && unknown?.message == "unknown encryption 'rot13'; known: none, shift")
        let missing = Self.error(Self.base + "encryption = shift\n")
        #expect(missing?.key == "shift.key" && missing?.message.contains("missing") == true)
        // Verifying after each backup restores it, which needs the key a backup pod should not hold.
        let verify = Self.error(Self.base + "encryption = shift\nshift.key = 7\nverify = after-backup\n")
        #expect(verify?.key == "verify" && verify?.message.contains("shift.secret") == true, "\(String(describing: verify))")
        #expect(Self.error(Self.base + "encryption = shift\nshift.key = 7\nshift.secret = 7\nverify = after-backup\n") == nil)
    }

    @Test("a backup restores with the reading config's key, even one that no longer encrypts; without it nothing is fed")
    func restoreWithTheReadersKey() async throws {
        let raw = Array((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let destination = MemoryDestination()
        let source = CollectingSource(base: FakeSource(chunks: [raw]))
        var writer = makeJob(source: source, destination: destination)
        writer.stages = [JobStage(.compressor, ReversibleXorStage()), JobStage(.encryption, ShiftEncryption(key: 9, secret: nil))]
        let outcome = try await BackupPipeline(now: { day() }).run(writer, logger: testLogger)
        #expect(outcome.record.name.hasSuffix(".fz.shift"))
        let stored = destination.objects[outcome.record.name] == XorTransform.expected(raw).map { $0 &+ 9 }
        #expect(stored, "the compressor's output, shifted")
        #expect(outcome.record.manifest.stages.map(\.kind) == ["compressor", "encryption"])

        // The writer itself holds no secret: refused before the source is asked to restore anything.
        await #expect(throws: BackupError.self) {
            _ = try await RestorePipeline(registry: .test).restore(writer.stored(outcome.record), job: writer, mode: .newDatabase("copy", replace: false), logger: testLogger)
        }
        #expect(source.requests.value.isEmpty)

        // A reader without encryption configured, but with the secret in its settings, restores it.
        var reader = makeJob(source: source, destination: destination)
        reader.stages = [JobStage(.compressor, ReversibleXorStage())]
        reader.pluginSettings["shift"] = PluginSettings(plugin: "shift", values: ["secret": "9"])
        _ = try await RestorePipeline(registry: .test).restore(reader.stored(outcome.record), job: reader, mode: .newDatabase("copy", replace: false), logger: testLogger)
        let restored = source.restored.value == raw
        #expect(restored, "the restore got back what was dumped")
        // A wrong secret fails as a decryption error.
        reader.pluginSettings["shift"] = PluginSettings(plugin: "shift", values: ["secret": "8"])
        do {
            _ = try await RestorePipeline(registry: .test).restore(reader.stored(outcome.record), job: reader, mode: .newDatabase("copy", replace: false), logger: testLogger)
            Issue.record("restored with the wrong secret")
        } catch let error as BackupError {
            #expect(error.code == .decryption)
        }
    }

    @Test("command-line settings replace a file's x and x_file, in every job")
    func overriding() throws {
        let text = Self.base + "shift.secret_file = /old\n[a]\nfake.database = a\nshift.secret = 3\n[b]\nfake.database = b\n"
        let document = try ConfigDocument.parse(text, file: "jobs.conf", environment: [:])
            .overriding([ConfigEntry(key: "shift.secret_file", value: "/new", file: "--secret", line: nil)])
        let jobs = try JobLoader(registry: .test) { path in
            guard path == "/new" else { throw CocoaError(.fileReadNoSuchFile) }
            return "5\n"
        }.load(document)
        #expect(jobs.map { $0.pluginSettings["shift"]?.string("secret") } == ["5", "5"])
    }
}
