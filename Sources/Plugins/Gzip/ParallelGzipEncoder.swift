import CZlib
import Engine
import Foundation

/// Writes one standard gzip stream, compressing blocks on several threads at once: the pigz approach.
///
/// The input is cut into blocks of `blockSize` (1 MiB; pigz uses 128 KiB, but a larger block spends less
/// of its time on the dictionary). Each block is deflated on its own (raw deflate), primed
/// with the previous block's last 32 KiB as its dictionary so the ratio stays close to a single stream's,
/// and ends with a sync flush, which byte-aligns it; the last block ends the deflate stream instead. The
/// blocks' CRC-32s are combined in order with zlib's `crc32_combine`. Concatenated behind a gzip header
/// and in front of the CRC and length trailer, the blocks are one ordinary gzip member that `gunzip` and
/// zlib read like any other.
///
/// zlib has no multi-threaded deflate of its own, and no library here offers one, so the scheduling is
/// written here; every byte of compression is still zlib's.
final class ParallelGzipEncoder: ByteTransform {
    static let dictionarySize = 32 * 1024

    private let pool: DeflatePool
    private let blockSize: Int
    /// Blocks submitted but not yet emitted; bounded, so memory does not grow with the input.
    private let maxInFlight: Int
    private var block: [UInt8] = []
    /// The previous block's last 32 KiB: a slice sharing that block's storage, not a copy.
    private var dictionary: ArraySlice<UInt8> = []
    private var submitted = 0
    private var emitted = 0
    private var crc = crc32(0, nil, 0)
    private var length: UInt64 = 0
    private var started = false
    private let level: Int

    init(level: Int, threads: Int, blockSize: Int = 1 << 20) throws {
        precondition(threads > 1 && blockSize >= Self.dictionarySize)
        self.level = level
        self.blockSize = blockSize
        // Enough to keep every worker busy while the next block fills, and no more: memory stays at a few
        // blocks per worker however large the dump.
        maxInFlight = threads + 2
        pool = try DeflatePool(level: level, threads: threads)
        block.reserveCapacity(blockSize)
    }

    deinit { pool.shutdown() }

    func update(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        if !started { writeHeader(into: &output) }
        let bytes = input.bindMemory(to: UInt8.self)
        var offset = 0
        while offset < bytes.count {
            let take = min(blockSize - block.count, bytes.count - offset)
            block.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[offset..<offset + take]))
            offset += take
            if block.count == blockSize { try submit(last: false, into: &output) }
        }
    }

    func finish(into output: inout [UInt8]) throws {
        if !started { writeHeader(into: &output) }
        try submit(last: true, into: &output)
        while emitted < submitted { try emitNext(wait: true, into: &output) }
        for value in [UInt32(truncatingIfNeeded: crc), UInt32(truncatingIfNeeded: length)] {
            withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
        }
    }

    private func writeHeader(into output: inout [UInt8]) {
        started = true
        // Magic, deflate, no flags, no mtime (the manifest has the time), extra flags as gzip sets them, Unix.
        let extraFlags: UInt8 = level >= 9 ? 2 : (level == 1 ? 4 : 0)
        output += [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, 3]
    }

    private func submit(last: Bool, into output: inout [UInt8]) throws {
        pool.submit(DeflateJob(index: submitted, input: block, dictionary: dictionary, last: last))
        submitted += 1
        length += UInt64(block.count)
        if !last {
            dictionary = block.suffix(Self.dictionarySize)
            block = []
            block.reserveCapacity(blockSize)
        }
        // Emit what is ready without waiting; wait only when too many blocks are in flight.
        while emitted < submitted {
            let mustWait = submitted - emitted >= maxInFlight
            guard try emitNext(wait: mustWait, into: &output) else { break }
        }
    }

    /// Appends the next block in order if it is done (or, with `wait`, once it is); returns whether it did.
    @discardableResult
    private func emitNext(wait: Bool, into output: inout [UInt8]) throws -> Bool {
        guard let result = try pool.take(emitted, wait: wait) else { return false }
        output += result.output
        crc = crc32_combine(crc, result.crc, .init(result.inputCount))
        emitted += 1
        return true
    }
}

struct DeflateJob: Sendable {
    var index: Int
    var input: [UInt8]
    var dictionary: ArraySlice<UInt8>
    var last: Bool
}

struct DeflateResult: Sendable {
    var output: [UInt8]
    var crc: uLong
    var inputCount: Int
}

/// Worker threads, each with its own raw-deflate `z_stream`, taking jobs in order and filing results by
/// index for the encoder to collect in order.
final class DeflatePool: @unchecked Sendable {
    // @unchecked: `jobs`, `results`, `failure` and `stopping` are only touched while holding `condition`.
    private let condition = NSCondition()
    private var jobs: [DeflateJob] = []
    private var results: [Int: DeflateResult] = [:]
    private var failure: String?
    private var stopping = false

    init(level: Int, threads: Int) throws {
        for number in 0..<threads {
            // Each worker's stream lives and dies on that worker's thread.
            let stream = try DeflateStream(level: level)
            let thread = Thread { [self] in work(stream) }
            thread.name = "gzip-\(number)"
            thread.start()
        }
    }

    func submit(_ job: DeflateJob) {
        condition.lock()
        jobs.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// The result of job `index`; nil if it is not done and `wait` is false.
    func take(_ index: Int, wait: Bool) throws -> DeflateResult? {
        condition.lock()
        defer { condition.unlock() }
        while wait && results[index] == nil && failure == nil { condition.wait() }
        if let failure { throw BackupError(.compression, "gzip failed: \(failure)") }
        return results.removeValue(forKey: index)
    }

    /// Lets the workers exit once they finish what they hold.
    func shutdown() {
        condition.lock()
        stopping = true
        jobs = []
        condition.broadcast()
        condition.unlock()
    }

    private func work(_ stream: DeflateStream) {
        ThreadPriority.yieldToDatabase()
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            let outcome = Result { try stream.deflate(job) }
            condition.lock()
            switch outcome {
            case .success(let result): results[job.index] = result
            case .failure(let error): failure = failure ?? "\(error)"
            }
            condition.broadcast()
            condition.unlock()
        }
    }
}

/// A raw-deflate `z_stream` (no header), reset for every block; zlib keeps pointers into it, so it lives at
/// a fixed heap address and is freed in `deinit`.
final class DeflateStream: @unchecked Sendable {
    // @unchecked: used by the one worker thread it was made for.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    init(level: Int) throws {
        stream.initialize(to: z_stream())
        // Negative window bits: raw deflate; the encoder writes the gzip header and trailer itself.
        let status = deflateInit2_(stream, Int32(level), Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                                   Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw BackupError(.compression, "zlib could not start (status \(status))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func deflate(_ job: DeflateJob) throws -> DeflateResult {
        guard deflateReset(stream) == Z_OK else { throw BackupError(.compression, "zlib could not reset") }
        if !job.dictionary.isEmpty {
            let status = job.dictionary.withUnsafeBufferPointer {
                deflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
            }
            guard status == Z_OK else { throw BackupError(.compression, "zlib refused the dictionary (\(status))") }
        }
        // deflateBound covers a whole stream; a few bytes more cover the sync flush's empty stored block.
        let bound = Int(deflateBound(stream, uLong(job.input.count))) + 16
        var status: Int32 = Z_OK
        let output = [UInt8](unsafeUninitializedCapacity: bound) { out, produced in
            job.input.withUnsafeBufferPointer { input in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.pointee.avail_in = uInt(input.count)
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                status = CZlib.deflate(stream, job.last ? Z_FINISH : Z_SYNC_FLUSH)
                produced = out.count - Int(stream.pointee.avail_out)
            }
        }
        let complete = job.last ? status == Z_STREAM_END : (status == Z_OK && stream.pointee.avail_in == 0)
        guard complete else {
            let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw BackupError(.compression, reason)
        }
        let crc = job.input.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        return DeflateResult(output: output, crc: crc, inputCount: job.input.count)
    }
}
