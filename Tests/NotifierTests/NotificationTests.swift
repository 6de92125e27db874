import Foundation
import Testing
import TestSupport

/// Notifications to a real local HTTP receiver: the right fields, and a dead or slow receiver costs a run
/// no more than `notify.timeout`.
@Suite(.serialized) struct NotificationTests {
    /// A job that fails at once (nothing listens on its port), telling `notify` through `receiverURL`.
    static func failingJob(_ receiverURL: String, extra: String) async throws -> BackupCLI {
        let server = try await PostgresServer.shared
        let closed = try FreePort.closed()
        return try await BackupCLI(label: "notify") { directory in
            server.config(database: "notify_db", directory: directory, extra: """
                postgres.port = \(closed)
                notify = webhook
                webhook.url = \(receiverURL)
                \(extra)
                """).replacingOccurrences(of: "postgres.port = \(server.port)\n", with: "")
        }
    }

    @Test func failedBackupReachesTheWebhookWithItsFields() async throws {
        let receiver = try await HTTPReceiver.start("ok")
        defer { receiver.stop() }
        let tokenFile = try Paths.temporaryDirectory("token") + "/token"
        try "tok-5150\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let cli = try await Self.failingJob(receiver.url, extra: "webhook.token_file = \(tokenFile)")
        defer { cli.cleanUp() }
        let result = try await cli.run("now")
        #expect(result.status == 1)
        let requests = try receiver.requests()
        try #require(requests.count == 1, "\(requests.count) requests; stderr: \(result.stderr)")
        let (path, headers, body) = requests[0]
        #expect(path == "/hook")
        #expect(headers["Authorization"] == "Bearer tok-5150")
        #expect(headers["Content-Type"] == "application/json")
        #expect(body["job"] as? String == "app")
        #expect(body["database"] as? String == "notify_db")
        #expect(body["status"] as? String == "failure")
        #expect(body["bytes"] as? Int == 0)
        #expect((body["duration_seconds"] as? Double).map { $0 >= 0 && $0 < 30 } == true)
        #expect(body["file"] is NSNull)
        #expect((body["error"] as? String)?.contains("cannot reach PostgreSQL") == true, "\(body)")
        #expect(!result.stderr.contains("tok-5150"))
    }

    @Test func successIsSentOnlyWhenAskedAndChatBodiesAreRight() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("notify_ok_db", rows: 10)
        let receiver = try await HTTPReceiver.start("ok")
        defer { receiver.stop() }
        let quiet = try await BackupCLI(label: "notify-quiet") {
            server.config(database: "notify_ok_db", directory: $0, extra: "notify = webhook\nwebhook.url = \(receiver.url)")
        }
        defer { quiet.cleanUp() }
        #expect(try await quiet.run("now").status == 0)
        #expect(try receiver.requests().isEmpty, "notify.on defaults to failure")

        let loud = try await BackupCLI(label: "notify-always") {
            server.config(database: "notify_ok_db", directory: $0, extra: """
                notify = webhook, slack, teams
                notify.on = always
                webhook.url = \(receiver.url)
                slack.url = \(receiver.url)
                teams.url = \(receiver.url)
                """)
        }
        defer { loud.cleanUp() }
        let result = try await loud.run("now")
        #expect(result.status == 0, "\(result.stderr)")
        let bodies = try receiver.requests().map(\.body)
        try #require(bodies.count == 3, "\(bodies)")
        let webhook = try #require(bodies.first { $0["status"] != nil })
        #expect(webhook["status"] as? String == "success")
        #expect((webhook["bytes"] as? Int).map { $0 > 0 } == true)
        let file = try #require(webhook["file"] as? String)
        #expect(FileManager.default.fileExists(atPath: file))
        #expect(webhook["error"] is NSNull)
        let slack = try #require(bodies.first { $0.count == 1 && $0["text"] != nil })
        #expect((slack["text"] as? String)?.contains("Backup of app (database notify_ok_db) succeeded") == true)
        let teams = try #require(bodies.first { $0["@type"] != nil })
        #expect(teams["@type"] as? String == "MessageCard")
        #expect((teams["title"] as? String) == "Backup of app succeeded")
    }

    /// A run stopped by a signal is not news: SIGTERM mid-backup notifies nobody, even with `notify.on = always`.
    @Test func aSignalNotifiesNobody() async throws {
        let server = try await PostgresServer.shared
        try await server.makeSampleDatabase("notify_term_db", rows: 10)
        let receiver = try await HTTPReceiver.start("ok")
        defer { receiver.stop() }
        let cli = try await BackupCLI(label: "notify-term") {
            server.config(database: "notify_term_db", directory: $0, extra: "notify = webhook\nnotify.on = always\nwebhook.url = \(receiver.url)")
        }
        defer { cli.cleanUp() }
        // The receiver hears this job: a whole run is told.
        #expect(try await cli.run("now").status == 0)
        try #require(try receiver.requests().count == 1)
        let standIn = try FakePgDump.write(in: cli.directory, body: "/usr/bin/pg_dump \"$@\" | head -c 50000\n\(FakePgDump.hang)")
        try (try String(contentsOfFile: cli.configPath, encoding: .utf8) + "\npostgres.pg_dump = \(standIn)\n")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)
        defer { FakePgDump.endStandIn(in: cli.directory) }
        let run = try await Background.backup(cli, "now")
        defer { run.end() }
        try await waitUntil("the pg_dump stand-in to hang") { !FakePgDump.hanging(in: cli.directory).isEmpty }
        let (result, _) = try await run.stop(SIGTERM)
        #expect(result.status == 143, "\(result.stderr)")
        let bodies = try receiver.requests().map(\.body)
        #expect(bodies.count == 1, "the interrupted run was told: \(bodies)")
        // Not even tried: a try cut short by the cancellation would be a notification lost by chance.
        #expect(!result.stderr.contains("notification"), "\(result.stderr)")
    }

    /// A receiver that answers after a minute, one that answers 500, and no receiver at all: each is logged,
    /// and the run ends within notify.timeout (2 s) plus the failing backup's own second or so.
    @Test(arguments: ["slow", "error", "dead"])
    func badReceiversCostAtMostTheTimeout(_ mode: String) async throws {
        let receiver = mode == "dead" ? nil : try await HTTPReceiver.start(mode)
        defer { receiver?.stop() }
        let closed = try FreePort.closed()
        let url = receiver?.url ?? "http://127.0.0.1:\(closed)/hook"
        let cli = try await Self.failingJob(url, extra: "notify.timeout = 2s")
        defer { cli.cleanUp() }
        let result = try await cli.run("now")
        #expect(result.status == 1, "the backup's own failure decides the exit status")
        // The slow receiver would take a minute: well under that, the timeout fired. The margin is for a
        // machine busy with other work.
        #expect(result.seconds < 30, "took \(result.seconds)s with notify.timeout = 2s")
        // AsyncHTTPClient retries a refused connection until its own connect timeout, so a dead receiver
        // usually ends at notify.timeout too.
        let expected = ["slow": ["did not answer within 2s (notify.timeout)"], "error": ["answered 500"],
                        "dead": ["is unreachable", "did not answer within 2s (notify.timeout)"]][mode]!
        #expect(result.stderr.contains("notification not sent: webhook") && expected.contains { result.stderr.contains($0) },
                "\(result.stderr)")
        if mode == "slow" { #expect(result.seconds >= 2, "the slow receiver was given its 2s") }
    }
}
