@testable import Age
import Crypto
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
        // The commands that only read (restore, verify) load the same config for reading.
        let document = try ConfigDocument.parse("postgres.user = app\npostgres.database = app\nlocal.path = /backups\nencryption = age\nage.recipients = \(recipient)\nage.passphrase = pw\n", file: "t.conf", environment: [:])
        let readingJob = try #require(try JobLoader(registry: BuiltinPlugins.registry, forReading: true).load(document).first)
        let stage = try #require(readingJob.stages.last?.stage)
        #expect(try stage.makeDecoder(for: record).transformAll(sealed) == Array("hello".utf8))
    }

    /// A key of the wrong kind is refused when the decoder is made, before a restore creates anything.
    @Test func aKeyOfTheWrongKindIsRefusedBeforeReading() throws {
        let (identity, _) = AgeKeys.generate()
        let factory = try #require(BuiltinPlugins.registry.encryptions.first)
        let identityOnly = try factory.makeForReading(PluginSettings(plugin: "age", values: ["identity": identity]))
        let byPassphrase = StageRecord(kind: "encryption", name: "age", parameters: ["passphrase": "scrypt"])
        #expect(throws: BackupError.self) { try identityOnly.makeDecoder(for: byPassphrase) }
        let passphraseOnly = try factory.makeForReading(PluginSettings(plugin: "age", values: ["passphrase": "pw"]))
        let byRecipients = StageRecord(kind: "encryption", name: "age", parameters: ["recipients": "age1x"])
        #expect(throws: BackupError.self) { try passphraseOnly.makeDecoder(for: byRecipients) }
    }

    /// Low-order X25519 points (the all-zero key, and the other points of small order, from the
    /// specification's list used by age's own tests) are refused as recipients at config load.
    @Test(arguments: [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ])
    func lowOrderRecipientsAreRefused(hex: String) {
        let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(hex.dropFirst($0).prefix(2), radix: 16)! }
        let recipient = Bech32.encode(hrp: "age", data: bytes)
        let (_, good) = AgeKeys.generate()
        let error = Self.error("encryption = age\nage.recipients = \(good), \(recipient)\n")
        #expect(error?.key == "age.recipients" && error?.message.hasPrefix("entry 2 is a low-order X25519 point") == true, "\(String(describing: error))")
        #expect(X25519Recipient(recipient)?.isUsable == false)
        #expect(throws: (any Error).self) { try X25519Recipient(publicKey: bytes).wrap(SymmetricKey(size: .bits128)) }
    }

    @Test func theRetentionFormerlyCalledAgeStillLoads() throws {
        let job = try #require(try Self.load("retention = age\nage.max = 2d\nage.min_keep = 5\n").first)
        let policy = try #require(job.retention as? ExpireRetention)
        #expect(policy.maxAge == 2 * 86_400 && policy.minKeep == 5)
        let renamed = try #require(try Self.load("retention = expire\nexpire.after = 3d\n").first?.retention as? ExpireRetention)
        #expect(renamed.maxAge == 3 * 86_400)
    }
}
