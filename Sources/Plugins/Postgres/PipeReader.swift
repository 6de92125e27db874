import Engine
import Foundation

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Reads pg_dump's output on a thread of its own, with blocking reads straight into pipeline-sized
/// chunks: no copy beyond the one out of the pipe, and no task wake-up per pipe-full, which at a few
/// hundred MB/s costs a measurable share of a core. The pipe is enlarged so pg_dump can run ahead while a
/// chunk is handed over.
enum PipeReader {
    /// Linux's F_SETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7), which Glibc's Swift module does not export.
    private static let setPipeSize: Int32 = 1024 + 7
    private static let pipeSize: Int32 = 1 << 20

    nonisolated(nonsending) static func read(_ descriptor: FileDescriptor, counter: CopyRowCounter?, into sink: DumpSink) async throws {
        _ = fcntl(descriptor.rawValue, setPipeSize, pipeSize)  // best effort: a smaller pipe only costs speed
        let box = CounterBox(counter)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                do {
                    while true {
                        let chunk = try readChunk(descriptor, size: DumpSink.preferredChunkSize)
                        if chunk.isEmpty { break }
                        if let counter = box.counter { chunk.withUnsafeBytes { counter.scan($0) } }
                        try sink.sendBlocking(chunk)
                    }
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "pg_dump-reader"
            thread.start()
        }
    }

    /// Up to `size` bytes, fewer only at the end of the stream; empty at its end.
    private static func readChunk(_ descriptor: FileDescriptor, size: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = 0
            while count < size {
                let got = Foundation.read(descriptor.rawValue, buffer.baseAddress! + count, size - count)
                if got > 0 {
                    count += got
                } else if got == 0 {
                    return
                } else if errno != EINTR {
                    throw BackupError(.sourceFailed, "reading pg_dump's output failed: \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Hands the counter to the reader thread.
    private final class CounterBox: @unchecked Sendable {
        // @unchecked: only the reader thread touches the counter until `read` returns, and the caller
        // reads it only after that (the continuation orders the two).
        let counter: CopyRowCounter?
        init(_ counter: CopyRowCounter?) { self.counter = counter }
    }
}
