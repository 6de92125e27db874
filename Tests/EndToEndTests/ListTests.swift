import Foundation
import Testing
import TestSupport

/// `backup list` with one destination it cannot read (a bucket that does not exist, on moto_server with
/// signing enforced): it lists what the volume holds, warns naming the bucket's destination and why, and
/// exits 1; `--json` the same.
@Suite struct ListTests {
    @Test func oneUnreachableDestinationHidesNothingElse() async throws {
        let server = try await PostgresServer.shared
        let moto = try await MotoServer.shared
        try await server.makeSampleDatabase("list_split", rows: 10)
        let bucket = try await moto.makeBucket("list-split")
        let cli = try await BackupCLI(label: "list-split", config: {
            server.config(database: "list_split", directory: $0, extra: "destination = local, s3\ns3.bucket = \(bucket)")
        }, environment: moto.environment)
        defer { cli.cleanUp() }
        #expect(try await cli.run("now").status == 0)
        let file = try #require(try cli.files().first { !$0.hasSuffix(".json") })
        // The bucket goes away: the job's config now names one that does not exist.
        let config = try String(contentsOfFile: cli.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "s3.bucket = \(bucket)", with: "s3.bucket = \(bucket)-gone")
            .write(toFile: cli.configPath, atomically: true, encoding: .utf8)

        let table = try await cli.run("list")
        #expect(table.status == 1, "\(table.stderr)")
        #expect(table.stdout.contains(cli.path(file)), "the volume's backup is listed: \(table.stdout)")
        #expect(table.stderr.contains("warning: cannot list job app at s3:") && table.stderr.contains("NoSuchBucket"),
                "\(table.stderr)")
        #expect(table.stderr.contains("the backups above are those of the destinations that answered"))
        let json = try await cli.run("list", "--json")
        #expect(json.status == 1)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["file"] as? String } == [file] && entries.first?["destinations"] as? [String] == ["local"],
                "\(json.stdout)")
    }
}
