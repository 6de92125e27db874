import Age
import Testing
import TestSupport

/// `age` keeps the contract of every byte stage: TestSupport's StageConformance, encrypting to a recipient
/// and with a passphrase.
@Suite struct AgeConformanceTests {
    /// A key pair (as `backup keygen` makes it) and a passphrase.
    static let keys = AgeKeys.generate()
    static let suite = StageConformance(encryptions: [AgeEncryptionFactory()], keySettings: [
        (" to a recipient", ["recipients": keys.recipient, "identity": keys.identity]),
        (" with a passphrase", ["passphrase": "correct horse battery staple", "work_factor": "10"]),
    ])

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
