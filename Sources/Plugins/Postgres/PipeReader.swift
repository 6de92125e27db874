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
    /// A read shorter than this found the pipe nearly empty.
    private static let dozeBelow = 128 << 10

    nonisolated(nonsending) static func read(
        _ descriptor: FileDescriptor, counter: CopyRowCounter?, watch: StallWatch, into sink: DumpSink
    ) async throws {
        // Best effort: a smaller pipe only costs speed, and then the reader must not doze (below).
        let enlarged = fcntl(descriptor.rawValue, setPipeSize, pipeSize) >= pipeSize
        let box = CounterBox(counter)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                do {
                    while true {
                        watch.waiting()
                        let chunk = try readChunk(descriptor, size: DumpSink.preferredChunkSize, doze: enlarged,
                                                  watch: watch)
                        if chunk.isEmpty { break }
                        watch.handing()
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
    ///
    /// pg_dump writes 4 KiB at a time. A reader that drains the pipe at once is woken for nearly every
    /// one of those writes (the kernel wakes a reader only when a write finds the pipe empty): 200,000
    /// wake-ups and context switches for a 1 GB dump, about 2 core-seconds between the two processes.
    /// With `doze`, a read that found little in the pipe is followed by a 1 ms sleep, so the pipe (1 MiB,
    /// a few ms of pg_dump's output) fills meanwhile and the next read takes it in one gulp.
    private static func readChunk(_ descriptor: FileDescriptor, size: Int, doze: Bool,
                                  watch: StallWatch) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = 0
            while count < size {
                let got = Foundation.read(descriptor.rawValue, buffer.baseAddress! + count, size - count)
                if got > 0 {
                    count += got
                    watch.waiting()
                    if doze && got < dozeBelow && count < size { usleep(1000) }
                } else if got == 0 {
                    return
                } else if errno != EINTR {
                    throw BackupError(.sourceFailed,
                                      "reading pg_dump's output failed: \(String(cString: strerror(errno)))")
                }
            }
        }
    }
}
