@testable import Engine
import Foundation
import Testing

@Suite("BackupCatalog.records")
struct BackupCatalogTests {
    @Test("only files with the job's name shape and a valid manifest for that job count, oldest first")
    func onlyOwnBackups() async throws {
        let destination = MemoryDestination()
        let newer = destination.seedBackup(job: "app", started: day(3_600))
        let older = destination.seedBackup(job: "app", started: day())
        // Other jobs, including one whose name starts with ours.
        destination.seedBackup(job: "app2", started: day(60))
        destination.seedBackup(job: "app_extra", started: day(120))
        // Our shape, but no manifest: a partial upload or a person's copy.
        destination.put("app_20261125T030000Z.sql.fz", [1, 2, 3])
        // Our shape, but the manifest is not JSON.
        destination.put("app_20261125T040000Z.sql.fz", [1])
        destination.put("app_20261125T040000Z.sql.fz.manifest.json", Array("not json".utf8))
        // Our shape, but the manifest belongs to another job.
        destination.seedBackup(job: "app", started: day(5 * 3_600), manifestJob: "other")
        // Our shape, but the manifest describes another file.
        let renamed = "app_20261125T070000Z.sql.fz"
        destination.put(renamed, [1])
        destination.put(renamed + Manifest.suffix,
                        try makeManifest(job: "app", file: "app_20261125T090000Z.sql.fz", started: day()).encoded())
        // A manifest without its data, and files that are nobody's.
        destination.put("app_20261125T080000Z.sql.fz.manifest.json",
                        try makeManifest(job: "app", file: "app_20261125T080000Z.sql.fz", started: day()).encoded())
        destination.put("notes.txt", [])
        destination.put("app_latest.sql.fz", [])

        let records = try await BackupCatalog.records(of: "app", in: destination)
        #expect(records.map(\.name) == [older, newer])
        #expect(records.map(\.created) == [day(), day(3_600)])
        #expect(records.first?.object.location == "mem://\(older)")
        #expect(records.first?.object.bytes == Int64(destination.objects[older]?.count ?? -1))
        #expect(try await BackupCatalog.records(of: "app2", in: destination).count == 1)
        #expect(try await BackupCatalog.records(of: "nobody", in: destination).isEmpty)
    }

    @Test("backups started in the same second are ordered by name")
    func tieBreak() async throws {
        let destination = MemoryDestination()
        destination.seedBackup(job: "app", started: day(), fileExtension: "sql.zz")
        destination.seedBackup(job: "app", started: day(), fileExtension: "sql.aa")
        let records = try await BackupCatalog.records(of: "app", in: destination)
        #expect(records.map(\.name) == ["app_20261125T010000Z.sql.aa", "app_20261125T010000Z.sql.zz"])
    }
}

@Suite("RetentionRunner")
struct RetentionRunnerTests {
    /// Records for `count` backups one hour apart, oldest first.
    private func records(_ count: Int) -> [BackupRecord] {
        (0..<count).map { index in
            let started = day(Double(index) * 3_600)
            let name = JobName.backupFileName(job: "app", started: started, dumpExtension: "sql",
                                              stageExtensions: ["fz"])
            return BackupRecord(object: StoredObject(name: name, location: "mem://\(name)", bytes: 1),
                                manifest: makeManifest(job: "app", file: name, started: started))
        }
    }

    @Test("plan deletes what the policy does not keep, oldest first", arguments: [1, 2, 3, 5, 8])
    func planKeepsNewest(keep: Int) {
        let all = records(5)
        let doomed = RetentionRunner.plan(KeepLastRetention(last: keep), records: all.shuffled(), justMade: all.last)
        #expect(doomed.map(\.name) == all.dropLast(keep).map(\.name))
    }

    @Test("a policy that deletes everything still leaves the newest")
    func deleteEverything() {
        let all = records(4)
        let doomed = RetentionRunner.plan(DeleteEverythingRetention(), records: all, justMade: nil)
        #expect(doomed.map(\.name) == all.dropLast().map(\.name))
    }

    @Test("the backup just made is kept even when it is not the newest")
    func justMadeIsKept() {
        let all = records(4)
        let doomed = RetentionRunner.plan(DeleteEverythingRetention(), records: all, justMade: all[1])
        #expect(doomed.map(\.name) == [all[0].name, all[2].name])
    }

    @Test("nothing to plan for no backups")
    func empty() {
        #expect(RetentionRunner.plan(DeleteEverythingRetention(), records: [], justMade: nil).isEmpty)
    }

    @Test("apply deletes data and manifest of doomed backups and leaves everything else alone")
    func apply() async throws {
        let destination = MemoryDestination()
        let names = (0..<4).map { destination.seedBackup(job: "app", started: day(Double($0) * 3_600)) }
        let other = destination.seedBackup(job: "app2", started: day(-3_600))
        destination.put("app_20261124T000000Z.sql.fz", [9])
        destination.put("readme.txt", [9])
        let before = destination.names
        let job = makeJob(destination: destination, retention: DeleteEverythingRetention())
        let justMade = try #require(try await BackupCatalog.records(of: "app", in: destination).last)

        let deleted = try await RetentionRunner.apply(job, justMade: justMade, logger: testLogger)

        #expect(deleted == Array(names.dropLast()))
        let gone = names.dropLast().flatMap { [$0, $0 + Manifest.suffix] }
        #expect(destination.names == before.subtracting(gone))
        #expect(destination.names.isSuperset(of: [names[3], names[3] + Manifest.suffix, other,
                                                   "app_20261124T000000Z.sql.fz", "readme.txt"]))
        // Data before manifest, so an interrupted delete never leaves unrecognised data behind.
        #expect(destination.state.value.deleted == gone)
    }
}
