import Engine
import Foundation
import Local
import Testing

/// `restore --backup LOCATION`: which locations the local destination reads, and as what.
@Suite struct LocalLocationTests {
    static let settings = PluginSettings(plugin: "local", values: [:])

    @Test(arguments: [
        ("/var/backups/app_20260101T000000Z.sql.gz", "/var/backups", "app_20260101T000000Z.sql.gz"),
        ("/var/backups/../backups/./app.sql", "/var/backups", "app.sql"),
        ("file:///srv/b/app.dump", "/srv/b", "app.dump"),
    ])
    func pathsAndFileURLs(_ location: String, _ directory: String, _ name: String) throws {
        let found = try #require(LocalDestinationFactory().resolve(location: location, settings: Self.settings))
        #expect((found.destination as? LocalDestination)?.path == directory && found.name == name)
    }

    @Test func aRelativePathIsTheWorkingDirectorys() throws {
        let found = try #require(LocalDestinationFactory().resolve(location: "backups/app.sql", settings: Self.settings))
        #expect((found.destination as? LocalDestination)?.path == FileManager.default.currentDirectoryPath + "/backups")
    }

    @Test(arguments: ["latest", "20260101T000000Z", "app_20260101T000000Z.sql.gz", "s3://bucket/app.sql.gz", "https://x/y"])
    func namesAndOtherURLsAreNotLocal(_ location: String) {
        #expect(LocalDestinationFactory().resolve(location: location, settings: Self.settings) == nil)
    }
}
