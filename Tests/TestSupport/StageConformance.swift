import Engine
import Foundation
import Testing

/// The contract of a byte stage (`Stage`), for the stage plugins a test target lists, each made as a job's
/// config makes it (defaults, and each end of its `level` range): round trips at awkward chunk sizes, a
/// decoder made from the manifest's record alone, and (unless the stage stores bytes unchanged) truncation
/// and corruption detected by the decoder. Each stage plugin's test target runs every check with its own
/// plugins, one `@Test` of the same name each (CompressionTests' `CompressorConformanceTests`).
package struct StageConformance: Sendable {
    package struct Case: Sendable, CustomStringConvertible {
        var kind: PluginKind
        package var stage: any Stage
        /// The settings a restore makes the stage with: the plugin's defaults, or for an encryption the keys
        /// that open what it wrote.
        var settings: PluginSettings
        var label = ""
        package var description: String { "\(stage.name)\(stage.level.map { " level \($0)" } ?? "")\(label)" }
    }

    /// The plugins under test, alone in a registry: a restore finds the decoder by the manifest's record there.
    let registry: PluginRegistry
    /// The settings each encryption is tried with: a label (" to a recipient") and the keys.
    let keySettings: [(label: String, values: [String: String])]
    /// Every compressor with its defaults and at each end of its level range, then every encryption with each
    /// of `keySettings`.
    package let cases: [Case]
    /// The cases whose stage changes the bytes, so that a decoder can tell damage.
    package var transformingCases: [Case] { cases.filter { !$0.stage.passesBytesThrough } }

    package init(compressors: [any CompressorFactory] = [], encryptions: [any EncryptionFactory] = [],
                 keySettings: [(label: String, values: [String: String])] = []) {
        registry = PluginRegistry(sources: [], compressors: compressors, encryptions: encryptions, destinations: [],
                                  retentions: [], defaults: [:])
        self.keySettings = keySettings
        cases = Self.compressorCases(compressors) + Self.encryptionCases(encryptions, keySettings)
    }

    static func defaults(_ factory: any PluginFactory) -> [String: String] {
        var values: [String: String] = [:]
        for key in factory.keys { values[key.name] = key.defaultValue }
        return values
    }

    static func compressorCases(_ factories: [any CompressorFactory]) -> [Case] {
        factories.flatMap { factory -> [Case] in
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
    }

    static func encryptionCases(_ factories: [any EncryptionFactory],
                                _ keySettings: [(label: String, values: [String: String])]) -> [Case] {
        factories.flatMap { factory -> [Case] in
            keySettings.compactMap { label, keys in
                let settings = PluginSettings(plugin: factory.name, values: defaults(factory).merging(keys) { $1 })
                return (try? factory.make(settings)).map {
                    Case(kind: .encryption, stage: $0, settings: settings, label: label)
                }
            }
        }
    }

    package func everyPluginAndLevelIsCovered() throws {
        var expected = 0
        for factory in registry.compressors {
            _ = try factory.make(PluginSettings(plugin: factory.name, values: Self.defaults(factory)))
            expected += factory.keys.contains { $0.name == "level" } ? 3 : 1
        }
        expected += registry.encryptions.count * keySettings.count
        #expect(cases.count == expected && expected >= registry.compressors.count + registry.encryptions.count)
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
    func restoringDecoder(_ c: Case) throws -> any ByteTransform {
        let record = StageRecord(c.stage, kind: c.kind)
        return try registry.stage(for: record, settings: c.settings).makeDecoder(for: record)
    }

    package func roundTripsAtAwkwardChunkSizes(_ c: Case) throws {
        for sample in [[], [0x2A], Array(Self.text.prefix(30_000)), Self.text, Self.noise] {
            for chunk in [1, 7, 4096, 65_521, 1 << 20] where sample.count / chunk <= 30_000 {
                let encoded = try Self.run(try c.stage.makeEncoder(), sample, chunk: chunk)
                let decoded = try Self.run(try restoringDecoder(c), encoded, chunk: chunk == 1 ? 3 : chunk)
                #expect(decoded == sample, "\(c) lost data: \(sample.count) bytes in chunks of \(chunk)")
            }
        }
    }

    package func namesItsFileUnlessItPassesBytesThrough(_ c: Case) throws {
        #expect((c.stage.fileExtension == nil) == c.stage.passesBytesThrough)
        if c.stage.passesBytesThrough {
            #expect(try Self.run(try c.stage.makeEncoder(), Self.text, chunk: 4096) == Self.text)
        }
    }

    package func decodersDetectTruncation(_ c: Case) throws {
        let encoded = try Self.run(try c.stage.makeEncoder(), Self.text, chunk: 65_521)
        for length in [0, 1, encoded.count / 2, encoded.count - 1] {
            #expect(throws: BackupError.self, "\(c) accepted \(length) of \(encoded.count) bytes") {
                try Self.run(try restoringDecoder(c), Array(encoded.prefix(length)), chunk: 4096)
            }
        }
    }

    package func decodersDetectCorruption(_ c: Case) throws {
        let encoded = try Self.run(try c.stage.makeEncoder(), Self.text, chunk: 65_521)
        // A flipped byte in the header, in the middle, and in the trailer's checksum.
        for index in [2, encoded.count / 2, encoded.count - 3] {
            var damaged = encoded
            damaged[index] ^= 0x10
            #expect(throws: BackupError.self, "\(c) accepted a flipped byte at \(index) of \(encoded.count)") {
                try Self.run(try restoringDecoder(c), damaged, chunk: 4096)
            }
        }
    }
}
