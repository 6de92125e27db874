@testable import Engine
import Foundation
import Testing

private func load(_ text: String) throws(ConfigError) -> [Job] {
    let document = try ConfigDocument.parse("fake.user = backup\nfake.database = app\n" + text, file: "jobs.conf",
                                            environment: [:])
    return try JobLoader(registry: .test).load(document)
}

private func loadError(_ text: String) -> ConfigError? {
    do {
        let jobs = try load(text)
        Issue.record("expected a ConfigError, loaded \(jobs.map(\.name))")
        return nil
    } catch {
        return error
    }
}

private func kept(_ destination: JobDestination) -> Int? { (destination.retention as? KeepLastRetention)?.last }

@Suite("JobLoader: several destinations")
struct JobLoaderDestinationsTests {
    @Test("one destination, as before, is named after its plugin and applies the job's retention")
    func one() throws {
        let job = try #require(try load("keep.last = 4\n").first)
        #expect(job.destinations.map(\.name) == ["mem"])
        #expect(kept(job.destinations[0]) == 4)
    }

    @Test("a list of destinations, a labelled second instance, and retention per destination with fallbacks")
    func several() throws {
        let job = try #require(try load("""
            destination = mem, mem@eu
            keep.last = 4
            mem@eu.bucket = other
            mem@eu.retention = keep
            mem@eu.keep.last = 30
            """).first)
        #expect(job.destinations.map(\.name) == ["mem", "mem@eu"])
        #expect(kept(job.destinations[0]) == 4, "the job's retention")
        #expect(kept(job.destinations[1]) == 30, "its own")
        #expect(job.settings.contains {
            $0.key == "mem@eu.keep.last" && $0.value == "30" && $0.origin == "jobs.conf:7"
        })

        // `mem.keep.last` is the plugin's, so every mem destination without its own has it.
        let shared = try #require(try load("destination = mem, mem@eu\nmem@eu.bucket = b\nmem.keep.last = 2\n").first)
        #expect(shared.destinations.map(kept) == [2, 2])
    }

    @Test("an instance's keys set for every job bother no job that does not list it")
    func inheritedInstanceKeys() throws {
        let jobs = try load("mem@eu.bucket = other\n[both]\ndestination = mem, mem@eu\n[one]\ndestination = mem\n")
        #expect(jobs.map { $0.destinations.map(\.name) } == [["mem", "mem@eu"], ["mem"]])
    }

    @Test("mistakes in the destination list are one-line errors naming the fix", arguments: [
        ("destination = mem, nope", "unknown destination 'nope'; known: mem"),
        ("destination = mem, mem", "listed twice"),
        ("destination = mem,", "an empty entry"),
        ("destination = mem@e-u", "after '@' comes a label"),
        ("destination = mem, mem@eu", "mem and mem@eu have the same settings"),
        ("mem@eu.bucket = x", "mem@eu is not one of this job's destinations"),
        ("mem@eu.nokey = x", "unknown key"),
        ("mem.retention = nope", "is not one of keep"),
    ])
    func mistakes(text: String, fragment: String) throws {
        let error = try #require(loadError(text))
        #expect(error.description.contains(fragment), "\(error)")
        #expect(!error.description.contains("\n"))
    }

    @Test("a destination's SettingError is pinned on the line that set the key: the instance's own, else its plugin's",
          arguments: [
              ("destination = mem, mem@eu\nmem@eu.bucket = reject", 4, "mem@eu.bucket", "cannot be 'reject'"),
              ("destination = mem@eu\nmem.bucket = reject", 4, "mem.bucket", "cannot be 'reject'"),
              ("destination = mem, mem@eu\nmem@eu.bucket = b\nmem@eu.keep.last = 1000", 5, "mem@eu.keep.last",
               "cannot keep 1000"),
              ("destination = mem@eu\nmem.keep.last = 1000", 4, "mem.keep.last", "cannot keep 1000"),
              ("keep.last = 1000", 3, "keep.last", "cannot keep 1000"),
          ])
    func settingErrorOfAnInstance(text: String, line: Int, key: String, message: String) throws {
        let error = try #require(loadError(text))
        #expect(error.file == "jobs.conf")
        #expect(error.line == line)
        #expect(error.key == key)
        #expect(error.message == message)
    }
}
