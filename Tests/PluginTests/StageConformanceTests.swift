import Age
import BuiltinPlugins
import Engine
import Foundation
import Testing

/// The contract of a byte stage (`Stage`), run for every stage plugin the registry lists, as a job's
/// config makes it (defaults, and each end of its `level` range): round trips at awkward chunk sizes, a
/// decoder made from the manifest's record alone, and (unless the stage stores bytes unchanged)
/// truncation and corruption detected by the decoder.
@Suite struct StageConformanceTests {
    struct Case: Sendable, CustomStringConvertible {
        var kind: PluginKind
        var stage: any Stage
        /// The settings a restore makes the stage with: the plugin's defaults, or for an encryption the keys
        /// that open what it wrote.
        var settings: PluginSettings
        var label = ""
        var description: String { "\(stage.name)\(stage.level.map { " level \($0)" } ?? "")\(label)" }
    }

    static func defaults(_ factory: any PluginFactory) -> [String: String] {
        var values: [String: String] = [:]
        for key in factory.keys { values[key.name] = key.defaultValue }
        return values
    }

    /// Every compressor the registry lists, with its defaults and at each end of its level range.
    static let compressorCases: [Case] = BuiltinPlugins.registry.compressors.flatMap { factory -> [Case] in
        let defaults = defaults(factory)
        var variants = [defaults]
        if let level = factory.keys.first(where: { $0.name == "level" }), case .integer(let range) = level.kind {
            variants += [range.lowerBound, range.upperBound].map { defaults.merging(["level": String($0)]) { $1 } }
        }
        // A variant that cannot be made is a failure of everyPluginAndLevelIsCovered, not a silent gap.
        return variants.compactMap { values in
            (try? factory.make(PluginSettings(plugin: factory.name, values: values))).map {
                Case(kind: .compressor, stage: $0, settings: PluginSettings(plugin: factory.name, values: defaults))
            }
        }
    }

    /// A key pair (as `backup keygen` makes it) and a passphrase.
    static let keys = AgeKeys.generate()
    static let keySettings: [(label: String, values: [String: String])] = [
        (" to a recipient", ["recipients": keys.recipient, "identity": keys.identity]),
        (" with a passphrase", ["passphrase": "correct horse battery staple", "work_factor": "10"]),
    ]

    /// Every encryption the registry lists, with each kind of key.
    static let encryptionCases: [Case] = BuiltinPlugins.registry.encryptions.flatMap { factory -> [Case] in
        keySettings.compactMap { label, keys in
            let settings = PluginSettings(plugin: factory.name, values: defaults(factory).merging(keys) { $1 })
            return (try? factory.make(settings)).map { Case(kind: .encryption, stage: $0, settings: settings, label: label) }
        }
    }

    static let cases = compressorCases + encryptionCases

    @Test func everyPluginAndLevelIsCovered() throws {
        var expected = 0
        for factory in BuiltinPlugins.registry.compressors {
            _ = try factory.make(PluginSettings(plugin: factory.name, values: Self.defaults(factory)))
            expected += factory.keys.contains { $0.name == "level" } ? 3 : 1
        }
        expected += BuiltinPlugins.registry.encryptions.count * Self.keySettings.count
        #expect(Self.cases.count == expected && expected >= 9)
    }

    static let text = Array((0..<20_000).map { "row \($0)\tname \($0 % 97)\n" }.joined().utf8)
    static let noise: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }

    static func run(_ transform: any ByteTransform, _ input: [UInt8], chunk: Int) throws -> [UInt8] {
        var output: [UInt8] = []
        for start in stride(from: 0, to: input.count, by: chunk) {
            try input[start..<min(start + chunk, input.count)].withUnsafeBytes { try transform.update($0, into: &output) }
        }
        try transform.finish(into: &output)
        return output
    }

    /// The decoder a restore builds: from the manifest's record, by the plugin made with the case's settings.
    static func restoringDecoder(_ c: Case) throws -> any ByteTransform {
        let record = StageRecord(c.stage, kind: c.kind)
        return try BuiltinPlugins.registry.stage(for: record, settings: c.settings).makeDecoder(for: record)
    }

    @Test(arguments: cases)
    func roundTripsAtAwkwardChunkSizes(_ c: Case) throws {
        for sample in [[], [0x2A], Array(Self.text.prefix(30_000)), Self.text, Self.noise] {
            for chunk in [1, 7, 4096, 65_521, 1 << 20] where sample.count / chunk <= 30_000 {
                let encoded = try Self.run(try c.stage.makeEncoder(), sample, chunk: chunk)
                let decoded = try Self.run(try Self.restoringDecoder(c), encoded, chunk: chunk == 1 ? 3 : chunk)
                #expect(decoded == sample, "\(c) lost data: \(sample.count) bytes in chunks of \(chunk)")
            }
        }
    }

    @Test(arguments: cases)
    func namesItsFileUnlessItPassesBytesThrough(_ c: Case) throws {
        #expect((c.stage.fileExtension == nil) == c.stage.passesBytesThrough)
        if c.stage.passesBytesThrough {
            #expect(try Self.run(try c.stage.makeEncoder(), Self.text, chunk: 4096) == Self.text)
        }
    }

    @Test(arguments: cases.filter { !$0.stage.passesBytesThrough })
    func decodersDetectTruncation(_ c: Case) throws {
        let encoded = try Self.run(try c.stage.makeEncoder(), Self.text, chunk: 65_521)
        for length in [0, 1, encoded.count / 2, encoded.count - 1] {
            #expect(throws: BackupError.self, "\(c) accepted \(length) of \(encoded.count) bytes") {
                try Self.run(try Self.restoringDecoder(c), Array(encoded.prefix(length)), chunk: 4096)
            }
        }
    }

    @Test(arguments: cases.filter { !$0.stage.passesBytesThrough })
    func decodersDetectCorruption(_ c: Case) throws {
        let encoded = try Self.run(try c.stage.makeEncoder(), Self.text, chunk: 65_521)
        // A flipped byte in the header, in the middle, and in the trailer's checksum.
        for index in [2, encoded.count / 2, encoded.count - 3] {
            var damaged = encoded
            damaged[index] ^= 0x10
            #expect(throws: BackupError.self, "\(c) accepted a flipped byte at \(index) of \(encoded.count)") {
                try Self.run(try Self.restoringDecoder(c), damaged, chunk: 4096)
            }
        }
    }
}
