import Gzip
import None
import Testing
import TestSupport
import Zstd

/// `gzip`, `zstd` and `none` keep the contract of every byte stage: TestSupport's StageConformance, each
/// compressor with its defaults and at each end of its level range.
@Suite struct CompressorConformanceTests {
    static let suite = StageConformance(
        compressors: [GzipCompressorFactory(), ZstdCompressorFactory(), NoneCompressorFactory()])

    @Test func everyPluginAndLevelIsCovered() throws {
        try Self.suite.everyPluginAndLevelIsCovered()
    }

    @Test(arguments: suite.cases)
    func roundTripsAtAwkwardChunkSizes(_ c: StageConformance.Case) throws {
        try Self.suite.roundTripsAtAwkwardChunkSizes(c)
    }

    @Test(arguments: suite.cases)
    func namesItsFileUnlessItPassesBytesThrough(_ c: StageConformance.Case) throws {
        try Self.suite.namesItsFileUnlessItPassesBytesThrough(c)
    }

    @Test(arguments: suite.transformingCases)
    func decodersDetectTruncation(_ c: StageConformance.Case) throws {
        try Self.suite.decodersDetectTruncation(c)
    }

    @Test(arguments: suite.transformingCases)
    func decodersDetectCorruption(_ c: StageConformance.Case) throws {
        try Self.suite.decodersDetectCorruption(c)
    }
}
