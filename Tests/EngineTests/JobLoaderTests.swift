@testable import Engine
import Foundation
import Testing

/// Loads `text` as `jobs.conf` with the test registry; `files` stands in for the file system of `_file` keys.
private func load(
    _ text: String, environment: [String: String] = [:], files: [String: String] = [:]
) throws(ConfigError) -> [Job] {
    let document = try ConfigDocument.parse(text, file: "jobs.conf", environment: environment)
    let loader = JobLoader(registry: .test) { path in
        guard let contents = files[path] else { throw CocoaError(.fileReadNoSuchFile) }
        return contents
    }
    return try loader.load(document)
}

private func loadError(_ text: String, files: [String: String] = [:]) -> ConfigError? {
    do {
        let jobs = try load(text, files: files)
        Issue.record("expected a ConfigError, loaded \(jobs.map(\.name))")
        return nil
    } catch {
        return error
    }
}

private func settings(of job: Job) throws -> PluginSettings {
    let source = try #require(job.source as? FakeSource)
    return try #require(source.settings)
}

private let minimal = "fake.user = backup\nfake.database = app\n"

@Suite("JobLoader")
struct JobLoaderTests {
    @Test("a file without sections is one job named after the database, with plugin defaults applied")
    func singleJob() throws {
        let jobs = try load(minimal)
        let job = try #require(jobs.first)
        #expect(jobs.count == 1)
        #expect(job.name == "app")
        #expect(job.stages.map(\.stage.name) == ["fz"] && job.stages[0].kind == .compressor)
        #expect(job.stages[0].stage.level == 3)
        #expect(job.interval == 86_400)
        let source = try settings(of: job)
        #expect(source.string("host") == "localhost")
        #expect(source.integer("port") == 5432)
        #expect(source.seconds("timeout") == 10)
        #expect(source.boolean("verbose") == false)
        #expect(source.string("password") == nil)
    }

    @Test("an unsectioned file whose database is no valid job name asks for a section")
    func badDefaultJobName() throws {
        let error = try #require(loadError("fake.user = u\nfake.database = \"my db\""))
        #expect(error.description.contains("[jobname]"))
    }

    @Test("defaults are inherited by every section and overridden per section")
    func defaultsAndOverrides() throws {
        let jobs = try load("""
            fake.user = backup
            fake.host = db
            compressor = fy
            [app]
            fake.database = app
            [reports]
            fake.database = reports
            fake.host = replica
            compressor = raw
            interval = 1h30m
            """)
        #expect(jobs.map(\.name) == ["app", "reports"])
        let app = try settings(of: jobs[0]), reports = try settings(of: jobs[1])
        #expect(app.string("host") == "db")
        #expect(reports.string("host") == "replica")
        #expect(app.string("user") == "backup")
        #expect(reports.string("user") == "backup")
        #expect(jobs[0].stages.map(\.stage.name) == ["fy"])
        #expect(jobs[1].stages.map(\.stage.name) == ["raw"])
        #expect(jobs[0].interval == 86_400)
        #expect(jobs[1].interval == 5_400)
    }

    @Test("interval parsing", arguments: [("24h", 86_400.0), ("90", 90), ("7d", 604_800), ("10m", 600)])
    func interval(text: String, seconds: Double) throws {
        let jobs = try load(minimal + "interval = \(text)")
        #expect(jobs.first?.interval == seconds)
    }

    @Test("an interval under one second is rejected at its line")
    func intervalTooShort() throws {
        let error = try #require(loadError(minimal + "interval = 0s"))
        #expect(error.line == 3)
        #expect(error.key == "interval")
        #expect(error.description.contains("at least 1s"))
    }

    @Test("the engine's own settings are checked at their line", arguments: [
        ("timezone = Mars/Olympus", "timezone",
         "'Mars/Olympus' is not a timezone; write Area/City, e.g. Europe/Berlin, or UTC"),
        ("schedule = @daily\ninterval = 1h", "schedule", "set either schedule or interval for a job, not both"),
        ("schedule = @often", "schedule", "'@often' is not a macro; use @hourly, @daily, @weekly, @monthly or @yearly"),
        ("lock.lease = 2s", "lock.lease", "must be at least 3s"),
    ])
    func coreSettingErrors(text: String, key: String, message: String) throws {
        let error = try #require(loadError(minimal + text))
        #expect(error.line == 3)
        #expect(error.key == key)
        #expect(error.message == message)
    }

    @Test("of several mistakes, when the job runs is reported before a plugin's, and the lock's lease after")
    func orderOfSettingErrors() throws {
        let zone = try #require(loadError(minimal + "fake.host = reject\ntimezone = Mars/Olympus"))
        #expect(zone.key == "timezone")
        let lease = try #require(loadError(minimal + "lock.lease = 2s\nfake.host = reject"))
        #expect(lease.key == "fake.host")
    }

    @Test("an unknown key names file:line, the key and the nearest valid key", arguments: [
        ("fake.hots", "fake.host"),
        ("fake.databse", "fake.database"),
        ("intervall", "interval"),
        ("compresor", "compressor"),
        ("postgres.host", "fake.host"),
    ])
    func unknownKey(key: String, suggestion: String) throws {
        let error = try #require(loadError(minimal + "\(key) = x"))
        #expect(error.line == 3)
        #expect(error.key == key)
        #expect(error.description.hasPrefix("jobs.conf:3: \(key): unknown key"))
        #expect(error.message.contains("did you mean "))
        #expect(error.message.contains(suggestion))
    }

    @Test("an unknown key far from every valid key gets no misleading suggestion")
    func unknownKeyWithoutSuggestion() throws {
        let error = try #require(loadError(minimal + "completely_unrelated_thing = x"))
        #expect(error.message == "unknown key")
    }

    @Test("a huge unknown key is named in a few dozen characters, without a suggestion")
    func hugeUnknownKey() throws {
        let key = String(repeating: "k", count: 60_000)
        let error = try #require(loadError(minimal + "\(key) = x"))
        #expect(error.message == "unknown key")
        #expect(error.description.count < 120 && error.description.hasPrefix("jobs.conf:3: kkkk")
                && error.description.contains("…"))
    }

    @Test("control characters from the file are escaped in the error, never printed raw")
    func controlCharactersAreEscaped() throws {
        let error = try #require(loadError(minimal + "bad\u{1B}[2Jkey\u{07} = x"))
        #expect(!error.description.contains("\u{1B}") && !error.description.contains("\u{07}"))
        #expect(error.description.contains("\\u{1b}"))
    }

    @Test("a line or a file far longer than any configuration is refused at once")
    func oversizedInput() throws {
        #expect(throws: ConfigError.self) { try load(minimal + "x = " + String(repeating: "v", count: 70_000)) }
        #expect(throws: ConfigError.self) { try load(String(repeating: "# padding\n", count: 500_000)) }
    }

    @Test("an unknown plugin lists the known plugins of that kind", arguments: [
        ("source", "postgres", "unknown source 'postgres'; known: fake"),
        ("compressor", "gzip", "unknown compressor 'gzip'; known: fz, fy, raw"),
        ("compressor", "mem", "unknown compressor 'mem'; known: fz, fy, raw"),
        ("destination", "s3", "unknown destination 's3'; known: mem"),
        ("retention", "count", "unknown retention 'count'; known: keep"),
    ])
    func unknownPlugin(key: String, value: String, message: String) throws {
        let error = try #require(loadError("\(key) = \(value)\n" + minimal))
        #expect(error.line == 1)
        #expect(error.key == key)
        #expect(error.message == message)
    }

    @Test("values are checked against the key's kind", arguments: [
        ("fake.port", "0", "from 1 to 65535"),
        ("fake.port", "port", "not a whole number"),
        ("fake.timeout", "10 seconds", "not a duration"),
        ("fake.format", "tar", "not one of plain, custom"),
        ("fake.verbose", "maybe", "not true or false"),
        ("fz.level", "10", "from 1 to 9"),
        ("interval", "daily", "not a duration"),
    ])
    func badValue(key: String, value: String, fragment: String) throws {
        let error = try #require(loadError(minimal + "\(key) = \(value)"))
        #expect(error.line == 3)
        #expect(error.key == key)
        #expect(error.description.contains(fragment))
    }

    @Test("a missing required key is named with the plugin that needs it", arguments: ["user", "database"])
    func missingRequired(key: String) throws {
        let text = minimal.split(separator: "\n").filter { !$0.hasPrefix("fake.\(key)") }.joined(separator: "\n")
        let error = try #require(loadError("[job]\n" + text))
        #expect(error.key == "fake.\(key)")
        #expect(error.file == "jobs.conf")
        #expect(error.message.contains("missing"))
    }

    @Test("a plugin's SettingError is reported at that plugin's line")
    func settingErrorLocation() throws {
        let error = try #require(loadError(minimal + "fake.host = reject"))
        #expect(error.line == 3)
        #expect(error.key == "fake.host")
        #expect(error.message.contains("cannot be 'reject'"))
    }

    @Test("a SettingError is pinned on the failing plugin's key, not another plugin's key of the same name")
    func settingErrorOfTheRightPlugin() throws {
        let error = try #require(loadError("compressor = fz\nfz.level = 9\nfy.level = 2\n" + minimal))
        #expect(error.key == "fz.level")
        #expect(error.line == 2)
    }

    @Test("`_file` keys read their value through readFile, dropping the trailing newline", arguments: [
        ("s3cret\n", "s3cret"),
        ("s3cret", "s3cret"),
        ("s3cret\r\n", "s3cret"),
        ("two\nlines\n\n", "two\nlines"),
    ])
    func fileKeys(contents: String, expected: String) throws {
        let jobs = try load(minimal + "fake.password_file = /run/secrets/pw",
                            files: ["/run/secrets/pw": contents])
        #expect(try settings(of: jobs[0]).string("password") == expected)
    }

    @Test("a key's earlier name (an alias the plugin declares) still sets it, also as _file and inherited")
    func aliases() throws {
        #expect(try settings(of: load(minimal + "verify.secret = old")[0]).string("verify_secret") == "old")
        #expect(try settings(of: load(minimal + "verify.secret_file = /s", files: ["/s": "from file\n"])[0])
                .string("verify_secret") == "from file")
        let jobs = try load("fake.user = backup\nverify.secret = inherited\n[a]\nfake.database = a\n"
                            + "[b]\nfake.database = b\nfake.verify_secret = own\n")
        #expect(try jobs.map { try settings(of: $0).string("verify_secret") } == ["inherited", "own"])
        let both = try #require(loadError(minimal + "verify.secret = a\nfake.verify_secret = b\n"))
        #expect(both.key == "fake.verify_secret"
                && both.message == "verify.secret is also set and means the same; keep only fake.verify_secret",
                "\(both)")
        #expect(try load(minimal + "verify.secret = hidden")[0].settings.contains {
            $0 == EffectiveSetting(key: "fake.verify_secret", value: "<redacted>", origin: "jobs.conf:3")
        })
    }

    @Test("a declared key that ends in _file is an ordinary key, not read from disk")
    func declaredFileKey() throws {
        let jobs = try load(minimal + "fake.cert_file = /etc/cert.pem")
        #expect(try settings(of: jobs[0]).string("cert_file") == "/etc/cert.pem")
    }

    @Test("setting both x and x_file is an error")
    func bothValueAndFile() throws {
        let text = minimal + "fake.password = a\nfake.password_file = /pw"
        let error = try #require(loadError(text, files: ["/pw": "b"]))
        #expect(error.line == 4)
        #expect(error.key == "fake.password_file")
        #expect(error.message.contains("fake.password"))
    }

    @Test("a section may replace an inherited x_file with x, and the other way round")
    func sectionOverridesFileKey() throws {
        let jobs = try load("""
            fake.user = backup
            fake.password_file = /pw
            [a]
            fake.database = a
            fake.password = inline
            [b]
            fake.database = b
            [c]
            fake.database = c
            fake.password_file = /other
            """, files: ["/pw": "from-file\n", "/other": "other\n"])
        #expect(try jobs.map { try settings(of: $0).string("password") } == ["inline", "from-file", "other"])
    }

    @Test("a mistyped _file key is located and gets a suggestion")
    func mistypedFileKey() throws {
        let error = try #require(loadError(minimal + "fake.pasword_file = /pw", files: ["/pw": "x"]))
        #expect(error.line == 3)
        #expect(error.message.contains("did you mean fake.password"))
    }

    @Test("an unknown key inside a section is reported at its own line")
    func unknownKeyInSection() throws {
        let text = "fake.user = u\n[a]\nfake.database = a\n[b]\nfake.database = b\ngzip.level = 6"
        let error = try #require(loadError(text))
        #expect(error.line == 6)
        #expect(error.key == "gzip.level")
    }

    @Test("an unreadable _file names the key and the path")
    func unreadableFile() throws {
        let error = try #require(loadError(minimal + "fake.password_file = /missing"))
        #expect(error.line == 3)
        #expect(error.key == "fake.password_file")
        #expect(error.message.contains("/missing"))
    }

    @Test("effective settings redact secrets and say where each value came from")
    func effectiveSettings() throws {
        let jobs = try load("""
            fake.user = backup
            fake.password = hunter2
            [app]
            fake.database = app
            interval = 1h
            """)
        let settings = try #require(jobs.first).settings
        func setting(_ key: String) -> EffectiveSetting? { settings.first { $0.key == key } }
        #expect(setting("fake.password")
            == EffectiveSetting(key: "fake.password", value: "<redacted>", origin: "jobs.conf:2"))
        #expect(setting("fake.user") == EffectiveSetting(key: "fake.user", value: "backup", origin: "jobs.conf:1"))
        #expect(setting("fake.database")?.origin == "jobs.conf:4")
        #expect(setting("fake.host") == EffectiveSetting(key: "fake.host", value: "localhost", origin: "default"))
        #expect(setting("interval") == EffectiveSetting(key: "interval", value: "1h", origin: "jobs.conf:5"))
        #expect(setting("compressor") == EffectiveSetting(key: "compressor", value: "fz", origin: "default"))
        #expect(setting("fz.level")?.value == "3")
        #expect(!settings.contains { $0.value.contains("hunter2") })
        // Keys of plugins the job does not use are not part of its effective configuration.
        #expect(setting("fy.level") == nil)
    }

    @Test("a secret read from a file is redacted too")
    func effectiveSettingsFromFile() throws {
        let jobs = try load(minimal + "fake.password_file = /pw", files: ["/pw": "hunter2\n"])
        let setting = try #require(jobs.first?.settings.first { $0.key == "fake.password" })
        #expect(setting.value == "<redacted>")
        #expect(setting.origin == "jobs.conf:3")
    }
}

@Suite("NearestKeys")
struct NearestKeysTests {
    @Test("edit distance", arguments: [
        ("", "", 0), ("abc", "", 3), ("", "abc", 3), ("host", "hots", 2), ("kitten", "sitting", 3),
        ("same", "same", 0),
    ])
    func distance(a: String, b: String, expected: Int) {
        #expect(NearestKeys.distance(a, b) == expected)
        #expect(NearestKeys.distance(b, a) == expected)
    }
}
