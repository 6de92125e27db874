import Foundation
import Logging

/// What a destination keeps of its job's recent runs, beside the backups: `.<job>.runs.json`, rewritten
/// after every run, failed ones too, so that `backup status` can say how many runs failed since the last
/// success where no daemon remembers it (a CronJob). Advisory: a store that cannot be written then (the
/// failure may be the store's own) loses the update, and the run reports as it would have anyway.
public struct RunRecord: Codable, Sendable, Equatable {
    /// When a run last stored its backup at this destination.
    public var lastSuccess: Date?
    /// When a run last failed to (a run that failed before reaching any destination fails at each).
    public var lastFailure: Date?
    public var failuresSinceSuccess: Int = 0
    /// The last failure's error, one line.
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case lastSuccess = "last_success"
        case lastFailure = "last_failure"
        case failuresSinceSuccess = "failures_since_success"
        case lastError = "last_error"
    }

    public init() {}

    /// The file's name at a destination: hidden, like the job's lock, so no listing of backups sees it.
    public static func name(of job: String) -> String { ".\(job).runs.json" }
    /// The most a record may be when read back.
    static let maximumBytes = 64 << 10

    /// This record after `event`, as `destination` saw it.
    public func after(_ event: JobEvent, at destination: String) -> RunRecord {
        var next = self
        let result = event.destinations.first { $0.name == destination }
        let stored = result.map { $0.status == .success } ?? (event.status == .success)
        if stored {
            next.lastSuccess = event.finishedAt
            next.failuresSinceSuccess = 0
        } else {
            next.lastFailure = event.finishedAt
            next.failuresSinceSuccess += 1
            next.lastError = String((result?.error ?? event.error ?? event.status.rawValue).prefix(1000))
        }
        return next
    }

    /// The record of `job` at `destination`; nil when there is none (or it does not parse: it is rebuilt).
    public static func read(_ job: String, from destination: any Destination) async -> RunRecord? {
        guard let bytes = try? await destination.read(name: name(of: job), limit: maximumBytes) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(RunRecord.self, from: Data(bytes))
    }

    /// Updates the record of `event`'s job at each of `job`'s destinations; what cannot be written is logged.
    static func update(_ event: JobEvent, for job: Job, logger: Logger) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        for target in job.destinations {
            let record = (await read(job.name, from: target.destination) ?? RunRecord()).after(event, at: target.name)
            do {
                try await target.destination.replace(name: name(of: job.name),
                                                     bytes: Array(try encoder.encode(record)) + [0x0A])
            } catch {
                logger.debug("could not record the run at \(target.name): \(error)", metadata: ["job": "\(job.name)"])
            }
        }
    }
}
