import Engine
import Testing

@Suite struct SizeParserTests {
    static let sizes: [(String, Int64)] = [
        ("1048576", 1_048_576), ("16MiB", 16_777_216), ("16 MiB", 16_777_216), ("16mi", 16_777_216), ("16M", 16_777_216),
        ("8MB", 8_000_000), ("5GiB", 5_368_709_120), ("5TiB", 5_497_558_138_880), ("1.5KiB", 1536), ("0", 0), ("512b", 512),
    ]

    @Test(arguments: sizes)
    func readsSizes(_ text: String, _ bytes: Int64) {
        #expect(SizeParser.bytes(text) == bytes)
    }

    @Test(arguments: ["", "MiB", "-1MiB", "16 parsecs", "2PiB", "99999999TiB", "1e3"])
    func rejectsWhatIsNotASize(_ text: String) {
        #expect(SizeParser.bytes(text) == nil)
    }

    @Test func aSizeKeyNamesItsRangeWhenOutside() {
        let spec = KeySpec("part_size", .size(5 << 20 ... 5 << 30), summary: "")
        #expect(spec.problem(with: "16MiB") == nil)
        #expect(spec.problem(with: "1MiB") == "'1MiB' is not a size from 5 MiB to 5 GiB; write e.g. 16MiB")
        #expect(spec.problem(with: "lots") != nil)
        #expect(SizeParser.text(16 << 20) == "16 MiB" && SizeParser.text(1000) == "1000 B")
    }
}
