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

/// Applies a job's retention policy after a successful backup (or on `prune`), with the engine's
/// guarantees on top of the policy: the backup just made and the newest backup are never deleted, nothing
/// is deleted while the newest backup failed its verification, and only backups the engine made for this
/// job are ever considered.
public enum RetentionRunner {
    /// Deletes what the policy does not keep; returns the names deleted.
    public static func apply(_ job: Job, justMade: BackupRecord, logger: Logger) async throws -> [String] {
        let records = try await BackupCatalog.records(of: job.name, in: job.destination)
        let doomed = plan(job.retention, records: records, justMade: justMade,
                          context: RetentionContext(now: Date(), timeZone: job.timeZone))
        try await delete(doomed, from: job, logger: logger)
        return doomed.map(\.name)
    }

    /// Removes backups with their sidecars and manifest.
    public static func delete(_ records: [BackupRecord], from job: Job, logger: Logger) async throws {
        for record in records {
            // The manifest goes last: a backup whose data is gone but manifest remains is invisible, while
            // the reverse order could leave data the engine no longer recognises as its own.
            try await job.destination.delete(name: record.name)
            for sidecar in record.manifest.sidecars ?? [] where sidecar.hasPrefix(record.name) {
                try await job.destination.delete(name: sidecar)
            }
            try await job.destination.delete(name: record.name + Manifest.suffix)
            logger.info("retention deleted backup", metadata: ["job": "\(job.name)", "file": "\(record.object.location)"])
        }
    }

    /// One decision per backup, newest first: the policy's, overruled where the engine protects a backup.
    public static func decisions(
        _ policy: any RetentionPolicy, records: [BackupRecord], justMade: BackupRecord?,
        context: RetentionContext = RetentionContext()
    ) -> [RetentionDecision] {
        let newest = records.max { ($0.created, $0.name) < ($1.created, $1.name) }
        let newestFailed = newest?.manifest.verification?.hasPrefix("failed") == true
        return policy.decide(records, context: context)
            .sorted { ($0.backup.created, $0.backup.name) > ($1.backup.created, $1.backup.name) }
            .map { decision in
                var decision = decision
                guard !decision.keep else { return decision }
                if decision.backup.name == newest?.name || decision.backup.name == justMade?.name {
                    decision.keep = true
                    decision.reason = "newest (always kept)"
                } else if newestFailed {
                    decision.keep = true
                    decision.reason = "kept: the newest backup failed verification, so nothing is deleted"
                }
                return decision
            }
    }

    /// The backups to delete, oldest first.
    public static func plan(
        _ policy: any RetentionPolicy, records: [BackupRecord], justMade: BackupRecord?,
        context: RetentionContext = RetentionContext()
    ) -> [BackupRecord] {
        decisions(policy, records: records, justMade: justMade, context: context)
            .filter { !$0.keep }
            .map(\.backup)
            .sorted { $0.created < $1.created }
    }
}
