import Crypto
@testable import Engine
import Foundation
import Logging
import Synchronization

// In-memory doubles of the engine's protocols, shared by every suite. They record what the engine asked of
// them so tests can assert on calls (prepare, abort, delete) as well as on results.

/// A lock-protected value that doubles update from whichever task the engine calls them on.
final class Recorder<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    func update<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { value in body(&value) }
    }
}

let testLogger = Logger(label: "engine-tests")

/// Polls `condition` until it holds; throws when it did not within `limit`, which only tells a state that
/// never comes from a slow one on a loaded machine (so it is generous).
func waitUntil(_ what: String, limit: Duration = .seconds(120), _ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(what: what, limit: limit) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

struct WaitTimedOut: Error, CustomStringConvertible {
    let what: String
    let limit: Duration
    var description: String { "gave up after \(limit) waiting for \(what)" }
}

// MARK: - Source

/// A source that yields fixed chunks, optionally failing after some of them.
struct FakeSource: Source {
    var info = SourceInfo(
        database: "app", serverVersion: "15.8", dumpToolVersion: "15.8", dumpTool: "/usr/bin/pg_dump",
        format: "plain", fileExtension: "sql", estimatedBytes: nil)
    var chunks: [[UInt8]] = []
    /// The dump throws `.sourceFailed` after delivering this many chunks.
    var failAfter: Int?
    /// The dump cancels its own task after delivering this many chunks, as a signal handler would.
    var cancelAfter: Int?
    /// A pause before each chunk, for a dump that takes a while.
    var pause: Duration?
    /// Awaited before each chunk with its index: a dump that goes on only once the test saw what it waits for.
    var beforeChunk: (@Sendable (Int) async throws -> Void)?
    var prepareError: BackupError?
    /// Extra files the dump hands back, stored beside the backup.
    var sidecars: [(suffix: String, bytes: [UInt8])] = []
    /// The settings the factory received, for loader tests.
    var settings: PluginSettings?
    let calls = Recorder<[String]>([])

    func prepare(logger: Logger) async throws -> SourceInfo {
        calls.update { $0.append("prepare") }
        if let prepareError { throw prepareError }
        return info
    }

    func dump(_ info: SourceInfo, logger: Logger, sink: DumpSink) async throws -> DumpDetails {
        calls.update { $0.append("dump") }
        for (index, chunk) in chunks.enumerated() {
            if index == failAfter { throw BackupError(.sourceFailed, "pg_dump exited with status 1") }
            if index == cancelAfter { withUnsafeCurrentTask { $0?.cancel() } }
            if let pause { try await Task.sleep(for: pause) }
            try await beforeChunk?(index)
            try await sink.send(chunk)
        }
        if failAfter == chunks.count { throw BackupError(.sourceFailed, "pg_dump exited with status 1") }
        return DumpDetails(rowCounts: ["public.t": Int64(chunks.count)], sidecars: sidecars)
    }
}

/// A source that restores by keeping the dump it is fed, for restore and verify tests.
struct CollectingSource: RestorableSource {
    var base = FakeSource()
    /// Everything the last restore was fed, and the requests it got.
    let restored = Recorder<[UInt8]>([])
    let requests = Recorder<[RestoreRequest]>([])

    func prepare(logger: Logger) async throws -> SourceInfo { try await base.prepare(logger: logger) }
    func dump(_ info: SourceInfo, logger: Logger, sink: DumpSink) async throws -> DumpDetails {
        try await base.dump(info, logger: logger, sink: sink)
    }

    func describe(_ request: RestoreRequest) async throws -> [String] { ["collect the dump"] }
    func preflight(_ request: RestoreRequest) async throws -> [String] { [] }

    func restore(_ request: RestoreRequest, logger: Logger, feed: DumpFeed) async throws -> RestoreReport {
        requests.update { $0.append(request) }
        var bytes: [UInt8] = []
        try await feed { bytes += $0 }
        restored.update { $0 = bytes }
        return RestoreReport(database: "scratch", rowCounts: request.manifest.rowCounts ?? [:])
    }
}

struct FakeSourceFactory: SourceFactory {
    let name = "fake"
    let summary = "a fake database"
    let keys = [
        KeySpec("host", .string, default: "localhost", summary: "host"),
        KeySpec("port", .integer(1...65535), default: "5432", summary: "port"),
        KeySpec("user", .string, required: true, summary: "role"),
        KeySpec("password", .string, secret: true, summary: "password"),
        KeySpec("database", .string, required: true, summary: "database to back up"),
        KeySpec("format", .choice(["plain", "custom"]), default: "plain", summary: "format"),
        KeySpec("timeout", .duration, default: "10s", summary: "connect timeout"),
        KeySpec("verbose", .boolean, default: "false", summary: "chatty"),
        KeySpec("cert_file", .string, summary: "a declared key that happens to end in _file"),
        KeySpec("verify_secret", .string, secret: true, aliases: ["verify.secret"],
                summary: "a key that earlier releases spelled verify.secret"),
    ]

    func make(_ settings: PluginSettings) throws -> any Source {
        if settings.string("host") == "reject" {
            throw SettingError(key: "host", message: "cannot be 'reject'")
        }
        return FakeSource(settings: settings)
    }

    func defaultJobName(_ settings: PluginSettings) -> String? { settings.string("database") }
}

// MARK: - Compressors

/// Encodes by XOR-ing every byte with 0x5A, and appends `FZ` plus the raw byte count (big-endian) in
/// `finish`, so a pipeline that forgets `finish` or drops its output is caught.
final class XorTransform: ByteTransform {
    private var count: UInt32 = 0

    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        count += UInt32(input.count)
        output.append(contentsOf: input.map { $0 ^ 0x5A })
    }

    func finish(into output: inout [UInt8]) throws {
        output.append(contentsOf: XorCompressor.trailer(rawCount: Int(count)))
    }

    /// What the encoder makes of `raw`, computed without the transform.
    static func expected(_ raw: [UInt8]) -> [UInt8] {
        raw.map { $0 ^ 0x5A } + XorCompressor.trailer(rawCount: raw.count)
    }
}

struct XorCompressor: Compressor {
    var name: String
    var level: Int?
    var fileExtension: String? { name }

    static func trailer(rawCount: Int) -> [UInt8] {
        let n = UInt32(rawCount)
        return [0x46, 0x5A, UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
    }

    func makeEncoder() throws -> any ByteTransform { XorTransform() }
    func makeDecoder(for record: StageRecord) throws -> any ByteTransform { XorTransform() }
}

/// Two of these (`fz`, `fy`) share the key name `level`, which is how a plugin's `SettingError` could be
/// pinned on the wrong plugin's line.
struct XorCompressorFactory: CompressorFactory {
    let name: String
    let summary = "xor"
    let keys = [KeySpec("level", .integer(1...9), default: "3", summary: "level")]

    func make(_ settings: PluginSettings) throws -> any Compressor {
        let level = settings.integer("level")
        if level == 9 { throw SettingError(key: "level", message: "\(name) cannot do level 9") }
        return XorCompressor(name: name, level: level)
    }
}

final class PassThroughTransform: ByteTransform {
    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        output.append(contentsOf: input)
    }

    func finish(into output: inout [UInt8]) throws {}
}

/// Stores bytes unchanged and adds no file extension.
struct RawCompressor: Compressor {
    var name: String { "raw" }
    var level: Int? { nil }
    var fileExtension: String? { nil }
    var passesBytesThrough: Bool { true }
    func makeEncoder() throws -> any ByteTransform { PassThroughTransform() }
    func makeDecoder(for record: StageRecord) throws -> any ByteTransform { PassThroughTransform() }
}

struct RawCompressorFactory: CompressorFactory {
    let name = "raw"
    let summary = "no compression"
    let keys: [KeySpec] = []
    func make(_ settings: PluginSettings) throws -> any Compressor { RawCompressor() }
}

/// A toy encryption (`shift`): adds `shift.key` to every byte; reading needs `shift.secret` equal to it,
/// as an encryption's decoder needs a key the encoder does not. The key it encrypted with is recorded.
struct ShiftEncryption: Encryption {
    var key: Int?
    var secret: Int?
    var name: String { "shift" }
    var fileExtension: String? { "shift" }
    var parameters: [String: String] { key.map { ["key": String($0)] } ?? [:] }

    func makeEncoder() throws -> any ByteTransform { ShiftTransform(by: UInt8(key ?? 0)) }

    func makeDecoder(for record: StageRecord) throws -> any ByteTransform {
        guard let secret else { throw BackupError(.decryption, "the backup is encrypted; set shift.secret") }
        guard record.parameters?["key"] == String(secret) else { throw BackupError(.decryption, "wrong shift.secret") }
        return ShiftTransform(by: 0 &- UInt8(secret))
    }
}

final class ShiftTransform: ByteTransform {
    let by: UInt8
    init(by: UInt8) { self.by = by }
    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws { output += input.map { $0 &+ by } }
    func finish(into output: inout [UInt8]) throws {}
}

struct ShiftEncryptionFactory: EncryptionFactory {
    let name = "shift"
    let summary = "a toy encryption"
    let keys = [
        KeySpec("key", .integer(1...255), summary: "what to add"),
        KeySpec("secret", .integer(1...255), secret: true, summary: "what reads"),
    ]

    func make(_ settings: PluginSettings) throws -> any Encryption {
        guard settings.integer("key") != nil else { throw SettingError(key: "key", message: "missing; shift needs it") }
        return try makeForReading(settings)
    }

    func makeForReading(_ settings: PluginSettings) throws -> any Encryption {
        ShiftEncryption(key: settings.integer("key"), secret: settings.integer("secret"))
    }
}

// MARK: - Destination

/// A destination in memory. Uploads become visible only on `commit`, as the protocol requires.
final class MemoryDestination: Destination {
    struct State: Sendable {
        var objects: [String: [UInt8]] = [:]
        var begun: [String] = []
        var aborted: [String] = []
        var deleted: [String] = []
        var writes = 0
        /// Every `read` and `stream` of an object, by name, in order.
        var reads: [String] = []
    }

    let state = Recorder(State())
    let checkError: BackupError?
    /// The write with this index (0-based, counted over the destination's life) throws.
    let failingWrite: Int?

    init(checkError: BackupError? = nil, failingWrite: Int? = nil) {
        self.checkError = checkError
        self.failingWrite = failingWrite
    }

    var objects: [String: [UInt8]] { state.value.objects }
    var names: Set<String> { Set(state.value.objects.keys) }

    func checkWritable() async throws {
        if let checkError { throw checkError }
    }

    func begin(name: String) async throws -> any Upload {
        state.update { $0.begun.append(name) }
        return MemoryUpload(name: name, destination: self)
    }

    func list(prefix: String) async throws -> [StoredObject] {
        state.value.objects.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map {
            StoredObject(name: $0.key, location: "mem://\($0.key)", bytes: Int64($0.value.count))
        }
    }

    func read(name: String) async throws -> [UInt8] {
        try fetch(name)
    }

    /// An object's bytes, counted as one read.
    private func fetch(_ name: String) throws -> [UInt8] {
        let bytes = state.update { state in
            state.reads.append(name)
            return state.objects[name]
        }
        guard let bytes else { throw BackupError(.notFound, "no \(name)") }
        return bytes
    }

    func replace(name: String, bytes: [UInt8]) async throws {
        state.update { $0.objects[name] = bytes }
    }

    func stream(name: String, chunkSize: Int, into sink: ([UInt8]) async throws -> Void) async throws {
        let bytes = try fetch(name)
        for start in stride(from: 0, to: bytes.count, by: chunkSize) {
            try await sink(Array(bytes[start..<min(start + chunkSize, bytes.count)]))
        }
    }

    func delete(name: String) async throws {
        state.update {
            $0.objects[name] = nil
            $0.deleted.append(name)
        }
    }

    /// Puts a finished object in place, as an earlier run or a person would have.
    func put(_ name: String, _ bytes: [UInt8]) {
        state.update { $0.objects[name] = bytes }
    }

    /// Stores a backup of `job` started at `started` with a valid manifest; returns the backup's name.
    @discardableResult
    func seedBackup(job: String, started: Date, manifestJob: String? = nil, fileExtension: String = "sql.fz")
        -> String
    {
        let name = JobName.backupFileName(job: job, started: started, dumpExtension: fileExtension, stageExtensions: [])
        let data = Array("old backup \(name)".utf8)
        put(name, data)
        var manifest = makeManifest(job: manifestJob ?? job, file: name, started: started)
        // Consistent with the data, as the engine writes it: retention sets aside backups that are not.
        manifest.storedBytes = Int64(data.count)
        manifest.sha256 = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        put(name + Manifest.suffix, try! manifest.encoded())
        return name
    }
}

final class MemoryUpload: Upload {
    let name: String
    let destination: MemoryDestination
    private var buffer: [UInt8] = []

    init(name: String, destination: MemoryDestination) {
        self.name = name
        self.destination = destination
    }

    func write(_ bytes: [UInt8]) async throws {
        let index = destination.state.update { state in
            state.writes += 1
            return state.writes - 1
        }
        if index == destination.failingWrite {
            throw BackupError(.destinationFull, "no space left on the memory destination")
        }
        buffer += bytes
    }

    func commit(sidecars: [(name: String, bytes: [UInt8])]) async throws -> StoredObject {
        guard destination.objects[name] == nil else { throw BackupError(.destination, "\(name) exists") }
        for sidecar in sidecars { destination.put(sidecar.name, sidecar.bytes) }
        destination.put(name, buffer)
        return StoredObject(name: name, location: "mem://\(name)", bytes: Int64(buffer.count))
    }

    func abort() async {
        destination.state.update { $0.aborted.append(name) }
    }
}

struct MemoryDestinationFactory: DestinationFactory {
    let name = "mem"
    let summary = "memory"
    let keys = [KeySpec("bucket", .string, default: "default", summary: "bucket")]
    func make(_ settings: PluginSettings) throws -> any Destination {
        if settings.string("bucket") == "reject" { throw SettingError(key: "bucket", message: "cannot be 'reject'") }
        return MemoryDestination()
    }
}

// MARK: - Retention

/// Keeps the newest `last` backups.
struct KeepLastRetention: RetentionPolicy {
    var last: Int

    func decide(_ backups: [BackupRecord], context: RetentionContext) -> [RetentionDecision] {
        let newestFirst = backups.sorted { ($0.created, $0.name) > ($1.created, $1.name) }
        return newestFirst.enumerated().map { index, backup in
            RetentionDecision(backup: backup, keep: index < last, reason: "position \(index)")
        }
    }
}

/// Deletes everything it is shown: the engine's own guarantees must still keep the newest.
struct DeleteEverythingRetention: RetentionPolicy {
    func decide(_ backups: [BackupRecord], context: RetentionContext) -> [RetentionDecision] {
        backups.map { RetentionDecision(backup: $0, keep: false, reason: "delete all") }
    }
}

struct KeepLastFactory: RetentionPolicyFactory {
    let name = "keep"
    let summary = "keep the newest N"
    let keys = [KeySpec("last", .integer(1...1000), default: "3", summary: "how many")]
    func make(_ settings: PluginSettings) throws -> any RetentionPolicy {
        if settings.integer("last") == 1000 { throw SettingError(key: "last", message: "cannot keep 1000") }
        return KeepLastRetention(last: settings.integer("last") ?? 3)
    }
}

// MARK: - Helpers

/// A clock that returns the given times in order, then keeps returning the last one.
final class FakeClock: Sendable {
    private let times: Recorder<[Date]>

    init(_ times: Date...) { self.times = Recorder(times) }

    func now() -> Date {
        times.update { times in times.count > 1 ? times.removeFirst() : times[0] }
    }
}

extension PluginRegistry {
    /// The registry every loader test uses; defaults exist for every role but the source.
    static let test = PluginRegistry(
        sources: [FakeSourceFactory()],
        compressors: [XorCompressorFactory(name: "fz"), XorCompressorFactory(name: "fy"), RawCompressorFactory()],
        encryptions: [ShiftEncryptionFactory()], encryptionOff: "none",
        destinations: [MemoryDestinationFactory()],
        retentions: [KeepLastFactory()],
        notifiers: [RecordingNotifierFactory()],
        defaults: [.source: "fake", .compressor: "fz", .destination: "mem", .retention: "keep"])
}

// MARK: - Notifier

/// `rec`: records events; `rec.behaviour` makes it fail or hang, as a broken receiver would.
struct RecordingNotifierFactory: NotifierFactory {
    let name = "rec"
    let summary = "records events"
    let keys = [
        KeySpec("url", .string, required: true, summary: "where"),
        KeySpec("behaviour", .choice(["ok", "fail", "hang"]), default: "ok", summary: "how it answers"),
    ]
    func make(_ settings: PluginSettings) throws -> any Notifier {
        RecordingNotifier(behaviour: settings.string("behaviour") ?? "ok")
    }
}

final class RecordingNotifier: Notifier, Sendable {
    let behaviour: String
    let events = Recorder<[JobEvent]>([])
    /// Set when a hanging notifier was cancelled rather than left to finish.
    let cancelled = Recorder(false)
    var name: String { "rec" }
    init(behaviour: String) { self.behaviour = behaviour }

    func notify(_ event: JobEvent) async throws {
        events.update { $0.append(event) }
        switch behaviour {
        case "fail": throw BackupError(.destination, "the receiver answered 500")
        case "hang":
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                cancelled.update { $0 = true }
                throw error
            }
        default: break
        }
    }
}

func makeManifest(job: String, file: String, started: Date) -> Manifest {
    Manifest(
        job: job, file: file, database: "app", serverVersion: "15.8", dumpToolVersion: "15.8", format: "plain",
        stages: [StageRecord(kind: "compressor", name: "fz", level: 3)], rawBytes: 10, storedBytes: 16,
        sha256: String(repeating: "0", count: 64),
        startedAt: started, finishedAt: started.addingTimeInterval(5))
}

/// 2026-11-25T01:00:00Z plus `offset` seconds.
func day(_ offset: TimeInterval = 0) -> Date {
    Date(timeIntervalSince1970: 1_795_568_400 + offset)
}

/// A job assembled directly from doubles, for pipeline and retention tests.
func makeJob(
    name: String = "app", source: any Source = FakeSource(),
    compressor: any Compressor = XorCompressor(name: "fz", level: 3),
    destination: any Destination = MemoryDestination(), retention: any RetentionPolicy = KeepLastRetention(last: 100)
) -> Job {
    Job(name: name, source: source, stages: [JobStage(.compressor, compressor)], destination: destination,
        retention: retention, interval: 86_400, settings: [])
}

extension Job {
    /// `record` as stored at the job's first destination.
    func stored(_ record: BackupRecord) -> BackupLocation {
        BackupLocation(target: destinations[0].name, destination: destinations[0].destination, record: record)
    }
}
