@testable import Engine
import Foundation
import Logging
import Testing

/// Keys of the process, as the runner declares them.
private let processKeys = [
    KeySpec("log.format", .choice(["text", "json"]), summary: "log format"),
    KeySpec("http.listen", .address, summary: "status address"),
    KeySpec("parallel", .integer(1...64), default: "1", summary: "jobs at once"),
]

private func loader() -> JobLoader { JobLoader(registry: .test, processKeys: processKeys) }

private func loadJob(_ text: String) throws -> Job {
    let document = try ConfigDocument.parse(text, file: "jobs.conf", environment: [:])
    return try #require(try loader().load(document).first)
}

private let base = "fake.user = u\nfake.database = d\n"

private func event(_ status: JobEvent.Status) -> JobEvent {
    JobEvent(job: "app", database: "d", status: status, bytes: 10, rawBytes: 20, durationSeconds: 1.5, file: nil,
             error: status == .failure ? "boom" : nil, verification: nil, finishedAt: Date())
}

@Suite("notify keys") struct NotifyConfigTests {
    @Test func notifiersAreMadeFromTheirListWithTheirOwnKeys() throws {
        let job = try loadJob(base + "notify = rec, rec\nrec.url = http://x\nnotify.on = always\nnotify.timeout = 3s\n")
        #expect(job.notifiers.count == 1, "a notifier named twice is made once")
        #expect(job.notifyWhen == .always)
        #expect(job.notifyTimeout == 3)
        let quiet = try loadJob(base)
        #expect(quiet.notifiers.isEmpty && quiet.notifyWhen == .failure && quiet.notifyTimeout == 10)
    }

    @Test(arguments: [
        ("notify = pager\n", "notify: unknown notifier 'pager'; known: rec"),
        ("notify = rec\n", "rec.url: missing; rec needs it"),
        ("notify.on = sometimes\n", "notify.on:"),
        ("http.listen = 9187\n", "http.listen: '9187' is not address:port"),
        ("log.format = xml\n", "log.format:"),
    ])
    func mistakesAreNamed(_ line: String, _ expected: String) {
        do {
            _ = try loadJob(base + line)
            Issue.record("loaded despite \(line)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test func processSettingsAreReadOnceNotPerJob() throws {
        let document = try ConfigDocument.parse(base + "http.listen = [::1]:9187\nlog.format = json\n[a]\nparallel = 3\n[b]\n",
                                                file: "jobs.conf", environment: [:])
        let loaded = try loader().loadConfiguration(document)
        #expect(loaded.jobs.map(\.name) == ["a", "b"])
        #expect(loaded.process.string("http.listen") == "[::1]:9187" && loaded.process.string("log.format") == "json")
        // As earlier releases read them: the first job may set them too, and `parallel` is the largest any
        // job sets.
        #expect(loaded.process.integer("parallel") == 3)
        let later = try ConfigDocument.parse(base + "parallel = 2\n[a]\n[b]\nparallel = 4\n[c]\nparallel = 3\n", file: "jobs.conf", environment: [:])
        #expect(try loader().loadConfiguration(later).process.integer("parallel") == 4)
        #expect(loaded.processSettings.map(\.key) == ["log.format", "http.listen", "parallel"])
        #expect(loaded.jobs.allSatisfy { job in !job.settings.contains { ["log.format", "http.listen", "parallel"].contains($0.key) } })
        let unknown = try ConfigDocument.parse(base + "http.listen = :1\n", file: "jobs.conf", environment: [:])
        #expect(throws: ConfigError.self) { try JobLoader(registry: .test).load(unknown) }
        #expect(HTTPAddress("[::1]:9187") == HTTPAddress("::1", 9187))
        #expect(HTTPAddress(":9187")?.host == "0.0.0.0")
        #expect(HTTPAddress("::1:9187") == nil)
    }
}

@Suite("Notifications.deliver") struct NotificationDeliveryTests {
    func job(_ behaviours: [String], on: NotifyWhen = .failure, timeout: Double = 10) throws -> (Job, [RecordingNotifier]) {
        var job = try loadJob(base)
        let notifiers = behaviours.map { RecordingNotifier(behaviour: $0) }
        job.notifiers = notifiers
        job.notifyWhen = on
        job.notifyTimeout = timeout
        return (job, notifiers)
    }

    @Test func failuresAlwaysAndSuccessesOnlyWhenAsked() async throws {
        let (quiet, heard) = try job(["ok"])
        await Notifications.deliver(event(.success), for: quiet, logger: testLogger)
        await Notifications.deliver(event(.failure), for: quiet, logger: testLogger)
        #expect(heard[0].events.value.map(\.status) == [.failure])
        let (loud, all) = try job(["ok"], on: .always)
        await Notifications.deliver(event(.success), for: loud, logger: testLogger)
        #expect(all[0].events.value.map(\.status) == [.success])
    }

    /// A failing and a hanging notifier do not stop the others, and delivery returns at the timeout.
    @Test(.timeLimit(.minutes(2))) func brokenNotifiersNeitherThrowNorHoldUpTheOthers() async throws {
        let (job, notifiers) = try job(["fail", "hang", "ok"], timeout: 0.5)
        let clock = ContinuousClock()
        let start = clock.now
        await Notifications.deliver(event(.failure), for: job, logger: testLogger)
        // The timeout ended the hanging one: it was cancelled, not left to sleep its hour. The time bound
        // only tells "returned at the timeout" from "waited for the hour": with both cores busy, the other
        // tests' CPU-bound work has kept the cooperative pool from running this task for 40 s.
        #expect(notifiers[1].cancelled.value, "the hanging notifier was not cancelled at the timeout")
        #expect(clock.now - start < .seconds(100), "a hanging notifier held delivery for \(clock.now - start)")
        #expect(notifiers.allSatisfy { $0.events.value.count == 1 })
    }
}
