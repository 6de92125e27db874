import Foundation
import Logging

/// What the engine made for a job, read from a destination's listing: a backup counts only when its file
/// name has the job's shape and its manifest exists, parses and names the same job and file. Everything
/// else in the destination (other jobs, a person's files, partial uploads) is invisible to the engine.
public enum BackupCatalog {
    /// The job's backups, oldest first.
    public static func records(of job: String, in destination: any Destination) async throws -> [BackupRecord] {
        let objects = try await destination.list()
        let names = Set(objects.map(\.name))
        var records: [BackupRecord] = []
        for object in objects where JobName.isBackupFile(object.name, of: job) {
            let manifestName = object.name + Manifest.suffix
            guard names.contains(manifestName),
                  let manifest = try? Manifest.decode(try await destination.read(name: manifestName)),
                  manifest.job == job, manifest.file == object.name
            else { continue }
            records.append(BackupRecord(object: object, manifest: manifest))
        }
        return records.sorted { ($0.created, $0.name) < ($1.created, $1.name) }
    }
}

/// Applies a job's retention policy after a successful backup, with the engine's guarantees on top of the
/// policy: the backup just made and the newest backup are never deleted, and only backups the engine made
/// for this job are ever considered.
public enum RetentionRunner {
    /// Deletes what the policy does not keep; returns the names deleted.
    public static func apply(_ job: Job, justMade: BackupRecord, logger: Logger) async throws -> [String] {
        let records = try await BackupCatalog.records(of: job.name, in: job.destination)
        let doomed = plan(job.retention, records: records, justMade: justMade,
                          context: RetentionContext(now: Date(), timeZone: job.timeZone))
        for record in doomed {
            // The manifest goes last: a backup whose data is gone but manifest remains is invisible, while
            // the reverse order could leave data the engine no longer recognises as its own.
            try await job.destination.delete(name: record.name)
            for sidecar in record.manifest.sidecars ?? [] where sidecar.hasPrefix(record.name) {
                try await job.destination.delete(name: sidecar)
            }
            try await job.destination.delete(name: record.name + Manifest.suffix)
            logger.info("retention deleted backup", metadata: ["file": "\(record.object.location)"])
        }
        return doomed.map(\.name)
    }

    /// The backups to delete, oldest first: the policy's choice minus the protected ones.
    public static func plan(
        _ policy: any RetentionPolicy, records: [BackupRecord], justMade: BackupRecord?,
        context: RetentionContext = RetentionContext()
    ) -> [BackupRecord] {
        let newest = records.max { ($0.created, $0.name) < ($1.created, $1.name) }
        return policy.decide(records, context: context)
            .filter { !$0.keep && $0.backup.name != justMade?.name && $0.backup.name != newest?.name }
            .map(\.backup)
            .sorted { $0.created < $1.created }
    }
}
