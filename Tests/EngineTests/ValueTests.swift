import Engine
import Foundation
import Testing

@Suite("DurationParser")
struct DurationParserTests {
    @Test("valid durations", arguments: [
        ("0", 0.0), ("90", 90), ("1.5", 1.5), ("90s", 90), ("10m", 600), ("24h", 86_400), ("7d", 604_800),
        ("1h30m", 5_400), ("1d2h3m4s", 93_784), ("1.5h", 5_400), (" 10s ", 10), ("0s", 0),
    ])
    func valid(text: String, seconds: Double) {
        #expect(DurationParser.seconds(text) == seconds)
    }

    @Test("invalid durations", arguments: [
        "", " ", "s", "h1", "10x", "10 s", "-5", "-5s", "1h30", "1..5s", "ten", "1w", "10S",
        "inf", "infinity", "nan", "1h-30m",
    ])
    func invalid(text: String) {
        #expect(DurationParser.seconds(text) == nil, "'\(text)' should not be a duration")
    }
}

@Suite("KeySpec.problem(with:)")
struct KeySpecTests {
    @Test("accepted values", arguments: [
        (KeySpec("k", .string, summary: ""), "anything at all"),
        (KeySpec("k", .string, summary: ""), ""),
        (KeySpec("k", .integer(1...9), summary: ""), "1"),
        (KeySpec("k", .integer(1...9), summary: ""), "9"),
        (KeySpec("k", .integer(-5...5), summary: ""), "-5"),
        (KeySpec("k", .duration, summary: ""), "1h30m"),
        (KeySpec("k", .choice(["plain", "custom"]), summary: ""), "custom"),
        (KeySpec("k", .boolean, summary: ""), "true"),
        (KeySpec("k", .boolean, summary: ""), "No"),
        (KeySpec("k", .boolean, summary: ""), "ON"),
        (KeySpec("k", .boolean, summary: ""), "0"),
    ])
    func accepted(spec: KeySpec, value: String) {
        #expect(spec.problem(with: value) == nil)
    }

    @Test("rejected values say what a valid one looks like", arguments: [
        (KeySpec("k", .integer(1...9), summary: ""), "0", "'0' is not a whole number from 1 to 9"),
        (KeySpec("k", .integer(1...9), summary: ""), "10", "'10' is not a whole number from 1 to 9"),
        (KeySpec("k", .integer(1...9), summary: ""), "3.5", "'3.5' is not a whole number from 1 to 9"),
        (KeySpec("k", .integer(1...9), summary: ""), "", "'' is not a whole number from 1 to 9"),
        (KeySpec("k", .duration, summary: ""), "soon", "'soon' is not a duration; write e.g. 30s, 10m, 24h or 7d"),
        (KeySpec("k", .choice(["plain", "custom"]), summary: ""), "Plain", "'Plain' is not one of plain, custom"),
        (KeySpec("k", .boolean, summary: ""), "y", "'y' is not true or false"),
        (KeySpec("k", .boolean, summary: ""), "", "'' is not true or false"),
    ])
    func rejected(spec: KeySpec, value: String, message: String) {
        #expect(spec.problem(with: value) == message)
    }

    @Test("PluginSettings reads typed values")
    func pluginSettings() {
        let settings = PluginSettings(plugin: "p", values: ["n": "42", "d": "2m", "b": "Yes", "f": "off", "s": "x"])
        #expect(settings.integer("n") == 42)
        #expect(settings.integer("s") == nil)
        #expect(settings.seconds("d") == 120)
        #expect(settings.boolean("b") == true)
        #expect(settings.boolean("f") == false)
        #expect(settings.string("missing") == nil)
        #expect(settings.boolean("missing") == nil)
    }
}

@Suite("Timestamp")
struct TimestampTests {
    @Test("compact form is UTC, zero-padded and round-trips", arguments: [
        (day(), "20261125T010000Z"),
        (Date(timeIntervalSince1970: 1_773_100_799), "20260309T235959Z"),
        (Date(timeIntervalSince1970: 0), "19700101T000000Z"),
        (Date(timeIntervalSince1970: 951_782_400), "20000229T000000Z"),
    ])
    func compact(date: Date, text: String) {
        #expect(Timestamp.compact(date) == text)
        #expect(Timestamp.parseCompact(text) == date)
    }

    @Test("compact form drops fractions of a second")
    func compactDropsFraction() {
        #expect(Timestamp.compact(day(0.75)) == "20261125T010000Z")
    }

    @Test("malformed compact timestamps are rejected", arguments: [
        "", "20261125T010000", "20261125010000Z", "20261125T01000Z", "20261125X010000Z", "2026112T0100000Z",
        "20261125T010000z", "2026-1125T010000Z", "20261125T010000Z0", "٢٠٢٦١١٢٥T010000Z", "2026½125T010000Z",
    ])
    func malformedCompact(text: String) {
        #expect(Timestamp.parseCompact(text) == nil)
    }

    @Test("ISO 8601 is UTC with a Z and parses back, with or without fractions")
    func iso8601() throws {
        #expect(Timestamp.iso8601(day(1_805)) == "2026-11-25T01:30:05Z")
        #expect(Timestamp.parseISO8601("2026-11-25T01:30:05Z") == day(1_805))
        let fractional = try #require(Timestamp.parseISO8601("2026-11-25T01:30:05.250Z"))
        #expect(abs(fractional.timeIntervalSince(day(1_805.25))) < 0.001)
        #expect(Timestamp.parseISO8601("25 Nov 2026") == nil)
    }
}

@Suite("JobName")
struct JobNameTests {
    @Test("valid and invalid job names", arguments: [
        ("app", true), ("my-app_2.prod", true), ("A1", true), (String(repeating: "a", count: 100), true),
        ("", false), (".hidden", false), ("a b", false), ("a/b", false), ("ä", false), ("a:b", false),
        (String(repeating: "a", count: 101), false),
    ])
    func validity(name: String, valid: Bool) {
        #expect(JobName.isValid(name) == valid)
    }

    @Test("backup file names", arguments: [
        ("sql", "gz", "app_20261125T010000Z.sql.gz"),
        ("dump", "zst", "app_20261125T010000Z.dump.zst"),
        ("sql", nil, "app_20261125T010000Z.sql"),
    ] as [(String, String?, String)])
    func fileName(_ example: (dump: String, compressed: String?, expected: String)) {
        let name = JobName.backupFileName(job: "app", started: day(0.9), dumpExtension: example.dump,
                                          stageExtensions: example.compressed.map { [$0] } ?? [])
        #expect(name == example.expected)
        #expect(JobName.isBackupFile(name, of: "app"))
    }

    @Test("only files shaped like the job's backups are claimed", arguments: [
        ("app_20261125T010000Z.sql.gz", "app", true),
        ("app_20261125T010000Z.dump", "app", true),
        ("app_20261125T010000Z.dump.zst", "app", true),
        ("app_20261125T010000Z.sql.gz", "app2", false),
        ("app2_20261125T010000Z.sql.gz", "app", false),
        ("app_extra_20261125T010000Z.sql.gz", "app", false),
        ("app_extra_20261125T010000Z.sql.gz", "app_extra", true),
        ("app_20261125T010000Z_20261126T010000Z.sql", "app", false),
        ("app_20261125T010000Z.sql.gz.manifest.json", "app", false),
        ("app_20261125T010000Z.sql.gz", "ap", false),
        ("app_20261125T010000Z", "app", false),
        ("app_20261125T010000Z.", "app", false),
        ("app_20261125T010000Z.sql..gz", "app", false),
        ("app_20261125T010000Z.sql gz", "app", false),
        ("app_20261125T010000Z-copy.sql", "app", false),
        (".app_20261125T010000Z.sql.gz.tmp", "app", false),
        ("app_latest.sql.gz", "app", false),
        ("notes.txt", "app", false),
        ("app_2026١١25T010000Z.sql", "app", false),
    ])
    func isBackupFile(file: String, job: String, claimed: Bool) {
        #expect(JobName.isBackupFile(file, of: job) == claimed)
    }
}

@Suite("Manifest")
struct ManifestTests {
    @Test("JSON round trip with the documented field names")
    func roundTrip() throws {
        let manifest = makeManifest(job: "app", file: "app_20261125T010000Z.sql.fz", started: day())
        let bytes = try manifest.encoded()
        #expect(bytes.last == 0x0A)
        #expect(try Manifest.decode(bytes) == manifest)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(Set(object.keys) == [
            "manifest_version", "job", "file", "database", "server_version", "dump_tool_version", "format",
            "stages", "raw_bytes", "stored_bytes", "sha256", "started_at", "finished_at",
        ])
        #expect(object["started_at"] as? String == "2026-11-25T01:00:00Z")
        #expect(object["raw_bytes"] as? Int == 10)
    }

    @Test("a manifest with a malformed time does not decode")
    func badTime() throws {
        var text = String(decoding: try makeManifest(job: "a", file: "f", started: day()).encoded(), as: UTF8.self)
        text = text.replacingOccurrences(of: "2026-11-25T01:00:00Z", with: "yesterday")
        let error = #expect(throws: DecodingError.self) { try Manifest.decode(Array(text.utf8)) }
        guard case .dataCorrupted(let context)? = error else {
            Issue.record("not a refusal of the time: \(String(describing: error))")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["started_at"])
        #expect(context.debugDescription
                == "not a time as backup writes it (ISO 8601 in UTC, whole seconds): yesterday")
    }

    /// Times `encoded()` would write otherwise would change when a manifest is written again (a verification
    /// recorded in it), so they do not decode: a fraction of a second, a month of one digit, an offset, none.
    @Test("a manifest time in another form than backup writes does not decode",
          arguments: ["2026-11-25T01:00:00.5Z", "2026-6-06T16:39:02Z",
                      "2026-11-25T02:00:00+01:00", "2026-11-25T01:00:00"])
    func otherTimeForms(form: String) throws {
        var text = String(decoding: try makeManifest(job: "a", file: "f", started: day()).encoded(), as: UTF8.self)
        text = text.replacingOccurrences(of: "2026-11-25T01:00:00Z", with: form)
        #expect(throws: DecodingError.self) { try Manifest.decode(Array(text.utf8)) }
    }

    /// What scripts/fuzz found (Tests/Fixtures/fuzz): each input either does not decode or survives being
    /// written again unchanged.
    @Test("the fuzzer's findings decode to a manifest that survives being written again, or not at all")
    func fuzzFindings() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/fuzz").standardizedFileURL
        let findings = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("manifest-") }
        #expect(!findings.isEmpty)
        for name in findings {
            let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
            guard let manifest = try? Manifest.decode(bytes) else { continue }
            var expected = manifest
            expected.manifestVersion = Manifest.currentVersion
            #expect(try Manifest.decode(try manifest.encoded()) == expected, "\(name)")
        }
    }
}
