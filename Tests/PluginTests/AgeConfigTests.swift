import Age
import BuiltinPlugins
import Engine
import Expire
import Foundation
import Testing

/// The `age` stage's settings as the real registry loads them: mistakes are named without echoing a key,
/// a reader may hold a passphrase beside recipients, and the retention once called `age` still works.
@Suite struct AgeConfigTests {
    static func load(_ text: String) throws(ConfigError) -> [Job] {
        let document = try ConfigDocument.parse("postgres.user = app\npostgres.database = app\nlocal.path = /backups\n" + text, file: "t.conf", environment: [:])
        return try JobLoader(registry: BuiltinPlugins.registry).load(document)
    }

    static func error(_ text: String) -> ConfigError? {
        do {
            _ = try load(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func anIdentityGivenAsARecipientIsRefusedWithoutEchoingIt() {
        let (identity, recipient) = AgeKeys.generate()
        let error = Self.error("encryption = age\nage.recipients = \(recipient), \(identity)\n")
        #expect(error?.key == "age.recipients" && error?.message.contains("entry 2 is not an age public key: it is an identity") == true,
                "\(String(describing: error))")
        #expect(error.map { !"\($0)".contains(identity) && !"\($0)".contains(identity.dropFirst(20).prefix(20)) } == true)
        let garbage = Self.error("encryption = age\nage.recipients = age1notakey\n")
        #expect(garbage?.message == "entry 1 is not an age public key (age1…, as `backup keygen` prints it)")
    }

    @Test func anIdentityThatDoesNotParseIsNamedByPositionOnly() {
        let (identity, recipient) = AgeKeys.generate()
        let broken = String(identity.dropLast()) + (identity.hasSuffix("Q") ? "P" : "Q")
        let error = Self.error("encryption = age\nage.recipients = \(recipient)\nage.identity = \(identity)\n  \(broken)\n".replacingOccurrences(of: "\n  ", with: ","))
        #expect(error?.key == "age.identity" && error?.message.hasPrefix("entry 2 is not an AGE-SECRET-KEY-1… identity") == true, "\(String(describing: error))")
        #expect(error.map { !"\($0)".contains(broken) } == true)
    }

    @Test func passphraseAndRecipientsConflictOnlyForWriting() throws {
        let (_, recipient) = AgeKeys.generate()
        let error = Self.error("encryption = age\nage.recipients = \(recipient)\nage.passphrase = pw\n")
        #expect(error?.key == "age.passphrase" && error?.message.contains("set either age.recipients or age.passphrase") == true)
        // A reader (a job that does not encrypt, or a restore's --passphrase-file) may hold both.
        let job = try #require(try Self.load("age.recipients = \(recipient)\nage.passphrase = pw\n").first)
        let factory = try #require(BuiltinPlugins.registry.encryptions.first)
        let reader = try factory.makeForReading(try #require(job.pluginSettings["age"]))
        let record = StageRecord(kind: "encryption", name: "age", parameters: ["passphrase": "scrypt"])
        let writer = try factory.make(PluginSettings(plugin: "age", values: ["passphrase": "pw", "work_factor": "10"]))
        let sealed = try writer.makeEncoder().transformAll(Array("hello".utf8))
        #expect(try reader.makeDecoder(for: record).transformAll(sealed) == Array("hello".utf8))
    }

    @Test func theRetentionFormerlyCalledAgeStillLoads() throws {
        let job = try #require(try Self.load("retention = age\nage.max = 2d\nage.min_keep = 5\n").first)
        let policy = try #require(job.retention as? ExpireRetention)
        #expect(policy.maxAge == 2 * 86_400 && policy.minKeep == 5)
        let renamed = try #require(try Self.load("retention = expire\nexpire.after = 3d\n").first?.retention as? ExpireRetention)
        #expect(renamed.maxAge == 3 * 86_400)
    }
}
