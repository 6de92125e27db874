import Engine
import Foundation

/// Worker threads, each with its own libdeflate compressor, taking jobs in order and filing results by
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
            // Each worker's compressor lives and dies on that worker's thread.
            let deflater = try BlockDeflater(level: level)
            let thread = Thread { [self] in work(deflater) }
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

    private func work(_ deflater: BlockDeflater) {
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
            let outcome = Result { try deflater.deflate(job) }
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
