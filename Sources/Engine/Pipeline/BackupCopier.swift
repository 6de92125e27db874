import Foundation
import Logging

/// Copies stored backups between two destinations of a job (`backup copy`).
public struct BackupCopier: Sendable {
    public var lockLease: Duration = .seconds(300)
    /// Wait for a run holding the job's lock at the target to finish, instead of failing (`--wait`).
    public var waitForLock = false

    public init() {}

    /// What happened to one backup.
    public enum Result: Sendable, Equatable {
        /// Copied; the new copy's location.
        case copied(String)
        /// The target already had it (compared by name, size and SHA-256 in its manifest).
        case present
    }

    /// Copies each of `records` from `from` to `to`, holding the job's lock at `to` (so no run of the job
    /// there removes the copy in progress as a leftover). Streams the data, checks its SHA-256 against the
    /// manifest before anything is published, and publishes through `to`'s upload, which never replaces an
    /// existing object. A backup `to` already has is skipped, so a second run copies nothing.
    public func copy(_ records: [BackupRecord], job: String, from: any Destination, to: any Destination,
                     logger: Logger, each: @escaping @Sendable (BackupRecord, Result) -> Void) async throws {
        try await to.checkWritable()
        let locks = JobLockSession(wait: waitForLock, lease: lockLease)
        try await locks.with(job: job, at: [("target", to)], logger: logger) { holding in
            // A copy (or backup) killed mid-upload left its upload behind; with the lock held, none is running.
            for held in holding.held {
                let leftovers = try await held.locking.removeLeftovers(job: job)
                if !leftovers.isEmpty {
                    logger.notice("removed what an interrupted run left behind: \(leftovers.joined(separator: ", "))")
                }
            }
            try await copyLocked(records, job: job, from: from, to: to, each: each)
        }
    }

    private func copyLocked(_ records: [BackupRecord], job: String, from: any Destination, to: any Destination,
                            each: @Sendable (BackupRecord, Result) -> Void) async throws {
        let stored = try await BackupCatalog.records(of: job, in: to)
        let present = Dictionary(stored.map { ($0.name, $0) }) { first, _ in first }
        for record in records {
            if let there = present[record.name] {
                guard there.manifest.sha256 == record.manifest.sha256, there.object.bytes == record.object.bytes else {
                    throw BackupError(.targetBusy, "\(there.object.location) exists and differs from "
                                      + "\(record.object.location) (another SHA-256 or size); it is not replaced")
                }
                each(record, .present)
                continue
            }
            each(record, .copied(try await copyOne(record, from: from, to: to)))
        }
    }

    /// One backup: data streamed and hashed, then its sidecars and manifest as stored at `from`, byte for byte.
    private func copyOne(_ record: BackupRecord, from: any Destination, to: any Destination) async throws -> String {
        let upload = try await to.begin(name: record.name)
        do {
            try await Checksum.streaming(record, from: from, chunkSize: RestorePipeline.chunkSize) {
                try await upload.write($0)
            }
            var sidecars = try await record.readSidecars(from: from)
            let manifest = record.name + Manifest.suffix
            sidecars.append((manifest, try await from.read(name: manifest, limit: Manifest.maximumBytes)))
            return try await upload.commit(sidecars: sidecars).location
        } catch {
            await upload.abort()
            throw error
        }
    }
}
