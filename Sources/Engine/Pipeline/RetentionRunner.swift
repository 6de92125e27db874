import Foundation
import Logging

/// Applies a job's retention policy after a successful backup (or on `prune`), with the engine's
/// guarantees on top of the policy: the backup just made and the newest backup are never deleted, nothing
/// is deleted while the newest backup failed its verification, only backups the engine made for this job
/// are ever considered, and a damaged backup never counts toward what is kept (nor is it deleted: a person
/// should look at it), so a good older backup is never deleted in its place.
public enum RetentionRunner {
    /// Deletes what the policy does not keep; returns the names deleted.
    /// `target` is one of the job's destinations (default: the first), with the policy applied there.
    public static func apply(
        _ job: Job, at target: JobDestination? = nil, justMade: BackupRecord, logger: Logger
    ) async throws -> [String] {
        let target = target ?? job.destinations[0]
        let records = try await BackupCatalog.records(of: job.name, database: job.database, in: target.destination)
        let decisions = try await review(job, at: target, records: records, justMade: justMade,
                                         context: RetentionContext(now: Date(), timeZone: job.timeZone))
        let doomed = decisions.filter { !$0.keep }.map(\.backup).sorted { $0.created < $1.created }
        try await delete(doomed, from: job, at: target, logger: logger)
        return doomed.map(\.name)
    }

    /// The decisions for `records`, with the backups that would be kept proven first as `job`'s
    /// `retention.check` says; what fails the check is set aside as damaged and the policy decides again
    /// without it, until every kept backup is proven. Each backup is read at most once.
    public static func review(
        _ job: Job, at target: JobDestination? = nil, records: [BackupRecord], justMade: BackupRecord?,
        context: RetentionContext
    ) async throws -> [RetentionDecision] {
        let target = target ?? job.destinations[0]
        var damaged = sizeAndVerificationDamage(records)
        guard job.retentionCheck == .checksum else {
            return decisions(target.retention, records: records, justMade: justMade, context: context, damaged: damaged)
        }
        var proven: Set<String> = []
        while true {
            let current = decisions(target.retention, records: records, justMade: justMade, context: context,
                                    damaged: damaged)
            guard current.contains(where: { !$0.keep }) else { return current }
            let unproven = current.filter {
                $0.keep && damaged[$0.backup.name] == nil && !proven.contains($0.backup.name)
            }
            guard !unproven.isEmpty else { return current }
            for decision in unproven {
                proven.insert(decision.backup.name)
                if let problem = try await checksumProblem(decision.backup, in: target.destination) {
                    damaged[decision.backup.name] = problem
                }
            }
        }
    }

    /// What the listing and the manifests alone show: a stored size other than the manifest's, a failed
    /// verification.
    public static func sizeAndVerificationDamage(_ records: [BackupRecord]) -> [String: String] {
        var damaged: [String: String] = [:]
        for record in records {
            if record.object.bytes != record.manifest.storedBytes {
                damaged[record.name] = "stored size \(record.object.bytes) bytes differs from the manifest's "
                    + "\(record.manifest.storedBytes)"
            } else if let verification = record.manifest.verification, verification.hasPrefix("failed") {
                damaged[record.name] = "its verification \(verification)"
            }
        }
        return damaged
    }

    private static func checksumProblem(
        _ record: BackupRecord, in destination: any Destination
    ) async throws -> String? {
        do {
            try await RestorePipeline.checkChecksum(record, in: destination)
            return nil
        } catch let error as BackupError where error.code == .corrupt || error.code == .notFound {
            return "its SHA-256 does not match the manifest's"
        }
    }

    /// Removes backups with their sidecars and manifest.
    public static func delete(
        _ records: [BackupRecord], from job: Job, at target: JobDestination? = nil, logger: Logger
    ) async throws {
        let destination = (target ?? job.destinations[0]).destination
        for record in records {
            // The manifest goes last: a backup whose data is gone but manifest remains is invisible, while
            // the reverse order could leave data the engine no longer recognises as its own.
            try await destination.delete(name: record.name)
            CrashPoint.reach("retention.after-data")
            for sidecar in record.manifest.sidecars ?? [] where JobName.isSidecar(sidecar, of: record.name) {
                try await destination.delete(name: sidecar)
            }
            try await destination.delete(name: record.name + Manifest.suffix)
            logger.info("retention deleted backup",
                        metadata: ["job": "\(job.name)", "file": "\(record.object.location)"])
        }
    }

    /// One decision per backup, newest first: the policy's, overruled where the engine protects a backup.
    public static func decisions(
        _ policy: any RetentionPolicy, records: [BackupRecord], justMade: BackupRecord?,
        context: RetentionContext = RetentionContext(), damaged: [String: String] = [:]
    ) -> [RetentionDecision] {
        let newest = records.max { ($0.created, $0.name) < ($1.created, $1.name) }
        let newestFailed = newest?.manifest.verification?.hasPrefix("failed") == true
        let healthy = records.filter { damaged[$0.name] == nil }
        let setAside = records.compactMap { record in
            damaged[record.name].map {
                RetentionDecision(backup: record, keep: true, reason: "damaged: \($0); not counted, not deleted "
                                  + "(look at it, then delete it by hand)")
            }
        }
        let newestHealthy = healthy.max { ($0.created, $0.name) < ($1.created, $1.name) }
        return (policy.decide(healthy, context: context) + setAside)
            .sorted { ($0.backup.created, $0.backup.name) > ($1.backup.created, $1.backup.name) }
            .map { decision in
                var decision = decision
                guard !decision.keep else { return decision }
                if decision.backup.name == newestHealthy?.name || decision.backup.name == justMade?.name {
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
        context: RetentionContext = RetentionContext(), damaged: [String: String] = [:]
    ) -> [BackupRecord] {
        decisions(policy, records: records, justMade: justMade, context: context, damaged: damaged)
            .filter { !$0.keep }
            .map(\.backup)
            .sorted { $0.created < $1.created }
    }
}
