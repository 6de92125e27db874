import Foundation
import Logging
import Synchronization

/// Streams one dump through the compressor into an upload, with the three stages overlapping:
///
///     source (task) → raw chunks → compressor (its own thread) → compressed chunks → SHA-256 + upload (task)
///
/// Each channel holds at most `chunksInFlight` chunks of about `chunkSize` bytes, so memory does not grow
/// with the database, and the slowest stage sets the pace: a slow disk slows the dump tool through its pipe.
/// Compression runs on a dedicated thread (plus the compressor's own workers) so that it never occupies
/// Swift's cooperative pool, which stays free for reading the source's pipe and writing the file.
struct BackupStream {
    static let chunkSize = DumpSink.preferredChunkSize
    static let chunksInFlight = 4

    struct Result {
        var details: DumpDetails
        var rawBytes: Int64
        var storedBytes: Int64
        var sha256: String
    }

    var source: any Source
    var info: SourceInfo
    var logger: Logger
    /// Called with the raw bytes read so far (see ``Meter``).
    var progress: @Sendable (Int64) -> Void

    func run(encoder: any ByteTransform, upload: any Upload) async throws -> Result {
        let raw = BoundedChannel<[UInt8]>(capacity: Self.chunksInFlight)
        let compressed = BoundedChannel<[UInt8]>(capacity: Self.chunksInFlight)
        return try await withTaskCancellationHandler {
            Self.startCompressor(EncoderBox(encoder: encoder), raw: raw, compressed: compressed)
            async let dumped = feed(raw, compressed: compressed)
            var checksum = Checksum()
            do {
                while let bytes = try await compressed.receive() {
                    checksum.update(bytes)
                    try await upload.write(bytes)
                }
            } catch {
                // Stops the compressor and, through the full channel, the source; its error is secondary.
                raw.fail(error)
                compressed.fail(error)
                _ = try? await dumped
                throw error
            }
            let (details, rawBytes) = try await dumped
            return Result(details: details, rawBytes: rawBytes, storedBytes: checksum.bytes, sha256: checksum.hex())
        } onCancel: {
            raw.fail(CancellationError())
            compressed.fail(CancellationError())
        }
    }

    /// Runs the source into the raw channel, reporting progress as chunks arrive.
    private func feed(
        _ raw: BoundedChannel<[UInt8]>, compressed: BoundedChannel<[UInt8]>
    ) async throws -> (DumpDetails, Int64) {
        let meter = Meter(progress: progress)
        do {
            let details = try await source.dump(info, logger: logger, sink: DumpSink(channel: raw) { meter.add($0) })
            raw.finish()
            return (details, meter.total)
        } catch {
            raw.fail(error)
            compressed.fail(error)
            throw error
        }
    }

    /// Counts the raw bytes and reports them on the first chunk, so even a short backup shows it started,
    /// then at most four times a second.
    private final class Meter: Sendable {
        private struct State {
            var total: Int64 = 0
            var lastReport: ContinuousClock.Instant?
        }

        private let state = Mutex(State())
        private let progress: @Sendable (Int64) -> Void
        private let clock = ContinuousClock()

        init(progress: @escaping @Sendable (Int64) -> Void) { self.progress = progress }

        var total: Int64 { state.withLock { $0.total } }

        func add(_ count: Int) {
            let now = clock.now
            let report: Int64? = state.withLock { state in
                state.total += Int64(count)
                guard state.lastReport.map({ now - $0 > .milliseconds(250) }) ?? true else { return nil }
                state.lastReport = now
                return state.total
            }
            if let report { progress(report) }
        }
    }

    /// Owns the encoder from here on: only the compressor thread touches it.
    private final class EncoderBox: @unchecked Sendable {
        // @unchecked: `encoder` is handed over before the thread starts and used by that thread alone.
        let encoder: any ByteTransform
        init(encoder: any ByteTransform) { self.encoder = encoder }
    }

    private static func startCompressor(
        _ box: EncoderBox, raw: BoundedChannel<[UInt8]>, compressed: BoundedChannel<[UInt8]>
    ) {
        let thread = Thread {
            ThreadPriority.yieldToDatabase()
            do {
                var output: [UInt8] = []
                output.reserveCapacity(chunkSize)
                while let chunk = try raw.receiveBlocking() {
                    try chunk.withUnsafeBytes { try box.encoder.update($0, into: &output) }
                    // Hand over in pieces of a quarter chunk or more, so a tiny output is not a message each.
                    if output.count >= chunkSize / 4 {
                        try compressed.sendBlocking(output)
                        output = []
                        output.reserveCapacity(chunkSize)
                    }
                }
                try box.encoder.finish(into: &output)
                if !output.isEmpty { try compressed.sendBlocking(output) }
                compressed.finish()
            } catch {
                compressed.fail(error)
                raw.fail(error)
            }
        }
        thread.name = "compress"
        thread.start()
    }
}
