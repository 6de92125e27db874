import Foundation
import Logging
import Synchronization

/// Restores and verifies backups: finds the backup, proves its checksum before touching any server, and
/// streams it, through its chain of stages undone in-process, into the source's restore.
public struct RestorePipeline: Sendable {
    public static let chunkSize = 1 << 20
    /// Finds the stages a backup's manifest names.
    public let registry: PluginRegistry

    public init(registry: PluginRegistry) {
        self.registry = registry
    }

    /// Re-reads the stored file and compares its SHA-256 with the manifest, and its sidecars with theirs.
    public func checkChecksum(_ record: BackupRecord, in destination: any Destination) async throws {
        try await Self.checkChecksum(record, in: destination)
    }

    /// Re-reads the stored file and compares its SHA-256 with the manifest, and its sidecars with theirs.
    public static func checkChecksum(_ record: BackupRecord, in destination: any Destination) async throws {
        _ = try await record.readSidecars(from: destination)
        try await checkData(record, in: destination)
    }

    /// The stored file's SHA-256 against the manifest, without the sidecars (a restore's request has read
    /// and checked them already).
    private static func checkData(_ record: BackupRecord, in destination: any Destination) async throws {
        try await Checksum.streaming(record, from: destination, chunkSize: chunkSize) { _ in }
    }

    /// The request for `record`, with its sidecars loaded; throws first when a stage of its chain cannot be
    /// undone here (e.g. no key for its encryption).
    public func request(
        _ location: BackupLocation, mode: RestoreMode, options: RestoreOptions = RestoreOptions(), job: Job
    ) async throws -> RestoreRequest {
        let record = location.record
        // A stage that cannot undo its part (an encryption without the key) says so before anything is read
        // or the server is touched.
        let stages = try record.manifest.stages.map { try stage(for: $0, job: job) }
        for (stage, entry) in zip(stages, record.manifest.stages) { _ = try stage.makeDecoder(for: entry) }
        let destination = location.destination
        var sidecars: [String: [UInt8]] = [:]
        for sidecar in try await record.readSidecars(from: destination) {
            sidecars[sidecar.name] = sidecar.bytes
        }
        // A stored file the source may read directly, when the chain left the dump's bytes as they were.
        let unchanged = stages.allSatisfy(\.passesBytesThrough)
        let local = unchanged ? destination.localFile(record.object) : nil
        return RestoreRequest(manifest: record.manifest, mode: mode, options: options, sidecars: sidecars,
                              localDumpFile: local)
    }

    /// Decodes the start of the stored file through its chain, so that a key that does not open it (or a
    /// damaged header) fails before a restore touches the server; returns what it found. When decoding
    /// fails, the file's checksum is checked, and a mismatch is what it throws.
    public func checkOpens(_ location: BackupLocation, job: Job) async throws -> String? {
        let record = location.record
        let stages = try record.manifest.stages.map { try stage(for: $0, job: job) }
        guard !stages.allSatisfy(\.passesBytesThrough) else { return nil }
        let decoder = ChainTransform.chain(
            try zip(stages, record.manifest.stages).reversed().map { try $0.makeDecoder(for: $1) })
        struct ReadEnough: Error {}
        var output: [UInt8] = []
        do {
            try await location.destination.stream(name: record.name, chunkSize: 64 << 10) { chunk in
                try chunk.withUnsafeBytes { try decoder.update($0, into: &output) }
                throw ReadEnough()
            }
        } catch is ReadEnough {
        } catch {
            // A damaged file fails as damaged, whatever the damage made a decoder say.
            try await Self.checkData(record, in: location.destination)
            throw error
        }
        return "its start decodes through " + record.manifest.stages.reversed().map(\.name).joined(separator: ", ")
    }

    /// The stage that undoes what a manifest entry describes: the job's own when it is the same plugin in
    /// the same role (it holds the job's settings, e.g. a key), else the plugin with its defaults.
    func stage(for record: StageRecord, job: Job) throws -> any Stage {
        if let own = job.stages.first(where: { $0.kind.rawValue == record.kind && $0.stage.name == record.name }) {
            return own.stage
        }
        return try registry.stage(for: record, settings: job.pluginSettings[record.name])
    }

    /// Restores `record` as `mode` says, hashing the stored bytes as they stream: a mismatch with the
    /// manifest fails the restore at the end of the stream, before the source makes anything final.
    ///
    /// With `checkFirst` (every restore into a real database), the whole file is hashed before the server
    /// is touched, and read again to restore. Without it (`verify`'s scratch restore, which is dropped in
    /// any case) the backup is read once; a restore that fails part way then still reads the rest, so a
    /// damaged file is reported as damaged rather than as whatever the damage made the decoder or the
    /// restore tool say.
    public func restore(
        _ location: BackupLocation, job: Job, mode: RestoreMode, options: RestoreOptions = RestoreOptions(),
        logger: Logger, checkFirst: Bool = true, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws -> RestoreReport {
        let record = location.record
        guard let source = job.source as? any RestorableSource else {
            throw BackupError(.notFound, "the \(type(of: job.source)) source of job \(job.name) cannot restore")
        }
        let stages = try record.manifest.stages.map { try stage(for: $0, job: job) }
        let request = try await request(location, mode: mode, options: options, job: job)
        // A source that reads a local file itself takes no feed, so nothing would hash what it reads:
        // prove the file first then, whatever the caller asked.
        let proven = checkFirst || request.localDumpFile != nil
        let destination = location.destination
        let clock = ContinuousClock()
        let start = clock.now
        if proven { try await Self.checkData(record, in: destination) }
        let checked = RestorePhase("checksum", seconds: (clock.now - start).inSeconds)
        let fed = FeedDone()
        var report = try await source.restore(request, logger: logger) { sink in
            // The inverse chain: the last stage applied is the first undone.
            let decoders = try zip(stages, record.manifest.stages).reversed().map { try $0.makeDecoder(for: $1) }
            try await Self.feed(record, from: destination, through: ChainTransform.chain(decoders), proven: proven,
                                progress: progress, into: sink)
            fed.done()
        }
        // A source that succeeded without reading the whole feed has restored unproven bytes.
        guard proven || fed.isDone else {
            throw BackupError(.sourceFailed, "the restore of \(record.name) ended without reading the whole backup, "
                              + "so its checksum was not checked")
        }
        if proven { report.phases.insert(checked, at: 0) }
        return report
    }

    /// Streams `record` through `decoder` into `sink`, hashing the stored bytes on the way. Unless the file
    /// was `proven` already, a failure part way is kept until the rest was read and hashed, so a damaged
    /// file fails as damaged.
    static func feed(
        _ record: BackupRecord, from destination: any Destination, through decoder: any ByteTransform,
        proven: Bool, progress: (@Sendable (Int64) -> Void)?, into sink: ([UInt8]) async throws -> Void
    ) async throws {
        var output: [UInt8] = []
        var read: Int64 = 0
        var failure: (any Error)?
        try await Checksum.streaming(record, from: destination, chunkSize: chunkSize) { chunk in
            try Task.checkCancellation()
            read += Int64(chunk.count)
            guard failure == nil else { return }
            do {
                output.removeAll(keepingCapacity: true)
                try chunk.withUnsafeBytes { try decoder.update($0, into: &output) }
                progress?(read)
                if !output.isEmpty { try await sink(output) }
            } catch {
                // Cancellation stops at once; so does any failure once the file was proven.
                if proven || error is CancellationError || Task.isCancelled { throw error }
                failure = error
            }
        }
        if let failure { throw failure }
        output.removeAll(keepingCapacity: true)
        try decoder.finish(into: &output)
        if !output.isEmpty { try await sink(output) }
    }

    /// Set once the feed has streamed the whole backup.
    private final class FeedDone: Sendable {
        private let flag = Mutex(false)
        func done() { flag.withLock { $0 = true } }
        var isDone: Bool { flag.withLock { $0 } }
    }

    /// Proves a backup: (when row counts were recorded) a restore into a scratch database whose row counts
    /// must equal the manifest's, checking the checksum on the way; else the checksum alone. Throws when the
    /// checksum or the restore fails.
    public func verify(
        _ location: BackupLocation, job: Job, options: RestoreOptions = RestoreOptions(), logger: Logger
    ) async throws -> VerifyOutcome {
        guard let expected = location.record.manifest.rowCounts else {
            try await checkChecksum(location.record, in: location.destination)
            return VerifyOutcome(checks: [], restored: false)
        }
        // One read: the checksum is taken as the backup streams into the scratch database.
        let report = try await restore(location, job: job, mode: .scratch, options: options, logger: logger,
                                       checkFirst: false)
        return VerifyOutcome(checks: Self.compare(expected: expected, restored: report.rowCounts), restored: true)
    }

    /// Records the outcome of a verification in the backup's manifest, with when it ran.
    public func mark(_ record: BackupRecord, verification: String, in destination: any Destination,
                     at time: Date = Date()) async throws {
        var manifest = record.manifest
        manifest.verification = verification
        manifest.verifiedAt = time
        try await destination.replace(name: record.name + Manifest.suffix, bytes: try manifest.encoded())
    }

    /// Records what `backup verify` found, unless the backup is gone meanwhile (retention deleted it): a
    /// manifest is never written back for a backup that is not there any more.
    public func record(_ location: BackupLocation, verification: String) async throws {
        let present = try await location.destination.list(prefix: location.record.name)
            .contains { $0.name == location.record.name }
        guard present else { throw BackupError(.notFound, "\(location.record.name) is gone; nothing recorded") }
        try await mark(location.record, verification: verification, in: location.destination)
    }

    /// Compares restored row counts with the manifest's, table by table.
    public static func compare(expected: [String: Int64], restored: [String: Int64]) -> [RowCountCheck] {
        Set(expected.keys).union(restored.keys).sorted().map {
            RowCountCheck(table: $0, expected: expected[$0], restored: restored[$0])
        }
    }
}
