import Foundation
import Logging

/// What `backup check` proves about a job before its first backup, as each check found it: that its source
/// answers with its credentials and has the tool to dump it, that each destination takes a write (a probe
/// object removed again) and can be listed, and that each stage's output reads back, an encryption's with
/// the key given to the check.
public struct JobCheck: Sendable, Equatable {
    /// The job it belongs to.
    public var job: String
    /// What was checked: `source`, a destination's name, or a stage's plugin name.
    public var subject: String
    /// The role: `source`, `destination`, or the stage's kind (`compressor`, `encryption`).
    public var kind: String
    public var ok: Bool
    /// What it found (versions, counts), or why it failed and what to fix.
    public var detail: String

    public init(job: String, subject: String, kind: String, ok: Bool, detail: String) {
        self.job = job
        self.subject = subject
        self.kind = kind
        self.ok = ok
        self.detail = detail
    }

    /// Bytes a stage encodes and must decode to: enough to pass the first block of any compressor.
    static let probe = Array("backup check: a probe that each stage encodes and decodes again.\n".utf8)

    /// Runs every check of `job`, in the order a backup meets them. `reading` is the job loaded with the keys
    /// that open backups (see ``JobLoader/forReading``); `keysGiven` says whether those keys were handed
    /// to the check, so an encryption nobody here can open is a failure only then (the backup pod should
    /// not hold the key).
    public static func run(_ job: Job, reading: Job?, keysGiven: Bool, logger: Logger) async -> [JobCheck] {
        var checks = [await source(job, logger: logger)]
        for target in job.destinations { checks.append(await destination(target, job: job)) }
        for (index, jobStage) in job.stages.enumerated() {
            let reader = reading.flatMap { index < $0.stages.count ? $0.stages[index].stage : nil }
            checks.append(stage(jobStage, reader: reader, keysGiven: keysGiven, job: job.name))
        }
        return checks
    }

    /// Connects as a backup would (`prepare`); for a whole server, also each database it would dump.
    static func source(_ job: Job, logger: Logger) async -> JobCheck {
        var check = JobCheck(job: job.name, subject: "source", kind: "source", ok: true, detail: "")
        do {
            let info = try await job.source.prepare(logger: logger)
            guard let server = job.source as? any ServerSource else {
                let size = info.estimatedBytes.map { ", \(ByteCount.format($0))" } ?? ""
                check.detail = "server \(info.serverVersion), database \(info.database)\(size); "
                    + "\(info.dumpTool) \(info.dumpToolVersion)" + (info.advice.map { ". Advice: \($0)" } ?? "")
                return check
            }
            let names = try await server.databases(logger: logger)
            var tools: Set<String> = []
            for name in names {
                let one = try await server.source(forDatabase: name).prepare(logger: logger)
                tools.insert("\(one.dumpTool) \(one.dumpToolVersion)")
            }
            check.detail = "server \(info.serverVersion), \(names.count) database\(names.count == 1 ? "" : "s")"
                + (tools.isEmpty ? "" : "; " + tools.sorted().joined(separator: ", "))
        } catch {
            check.ok = false
            check.detail = "\(error)"
        }
        return check
    }

    /// Writes and removes a probe, then lists the job's backups there, as a run and its retention would.
    static func destination(_ target: JobDestination, job: Job) async -> JobCheck {
        var check = JobCheck(job: job.name, subject: target.name, kind: "destination", ok: true, detail: "")
        do {
            try await target.destination.checkWritable()
            let names = try await target.destination.list(prefix: job.name).map(\.name)
            let count = names.filter { JobName.isBackupFile($0, of: job.name) }.count
            check.detail = "writable (a probe written and removed); \(count) backup\(count == 1 ? "" : "s") listed"
        } catch {
            check.ok = false
            check.detail = "\(error)"
        }
        return check
    }

    /// Encodes the probe with the job's stage and decodes it with `reader` (the same plugin holding the keys
    /// given for reading), as a restore would from the manifest's record.
    static func stage(_ jobStage: JobStage, reader: (any Stage)?, keysGiven: Bool, job: String) -> JobCheck {
        let stage = jobStage.stage
        var check = JobCheck(job: job, subject: stage.name, kind: jobStage.kind.rawValue, ok: true, detail: "")
        let encoded: [UInt8]
        do {
            encoded = try stage.makeEncoder().transformAll(probe)
        } catch {
            check.ok = false
            check.detail = "cannot encode: \(error)"
            return check
        }
        let whom = stage.parameters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")
        let what = jobStage.kind == .encryption ? "encrypts to \(whom.isEmpty ? "its key" : whom)" : "encodes"
        do {
            let decoder = try (reader ?? stage).makeDecoder(for: StageRecord(stage, kind: jobStage.kind))
            guard try decoder.transformAll(encoded) == probe else {
                check.ok = false
                check.detail = "\(what), but what it wrote decodes to other bytes"
                return check
            }
            check.detail = "\(what); " + (jobStage.kind == .encryption ? "the key given opens it" : "decodes again")
        } catch let error as BackupError where error.code == .decryption && !keysGiven {
            // The backup pod is meant not to hold the key; only a key handed to the check is checked.
            check.detail = "\(what); no key here opens it (give one to check it: \(error.message))"
        } catch {
            check.ok = false
            check.detail = "\(what), but " + (jobStage.kind == .encryption ? "the key given does not open it: " : "")
                + "\(error)"
        }
        return check
    }
}
