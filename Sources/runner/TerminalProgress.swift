import Engine
import Foundation
import Synchronization

/// A one-line progress display on stderr, only when stderr is a terminal (never in a pod's log), in one
/// format for backups and restores: `shop: 120.5 MiB of ~339.1 MiB (35%), 45.2 MiB/s, 5s left`.
final class TerminalProgress: ProgressObserver, Sendable {
    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// The uncompressed size the dump is expected to reach: the previous backup's, when there is one.
    private let expected: Int64?
    /// When the line was last drawn, and when a restore began: drawn at most four times a second.
    private let state = Mutex<(drawn: ContinuousClock.Instant?, restoreStart: ContinuousClock.Instant?)>((nil, nil))

    init(expected: Int64? = nil) { self.expected = expected }

    func progress(job: String, rawBytes: Int64, estimatedTotal: Int64?, elapsed: Double) {
        // The previous backup's size is a far better guess than the database's size on disk (indexes, bloat).
        let total = expected ?? estimatedTotal
        draw(Self.line(job, done: rawBytes, total: total, exact: false, elapsed: elapsed))
    }

    func restoring(bytes: Int64, of total: Int64) {
        let now = ContinuousClock.now
        let start = state.withLock { state in
            if state.restoreStart == nil { state.restoreStart = now }
            return state.restoreStart!
        }
        draw(Self.line("restoring", done: bytes, total: total, exact: true, elapsed: (now - start).inSeconds))
    }

    func finished(job: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    private func draw(_ line: String) {
        let now = ContinuousClock.now
        let due = state.withLock { state in
            if let drawn = state.drawn, now - drawn < .milliseconds(250) { return false }
            state.drawn = now
            return true
        }
        if due { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
    }

    /// `what: DONE of TOTAL (P%), RATE/s, Ns left`; `~` before an expected total; without a total, or once
    /// it is passed, the elapsed time instead of what is left.
    static func line(_ what: String, done: Int64, total: Int64?, exact: Bool, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let speed = "\(ByteCount.format(Int64(rate)))/s"
        guard let total, total > 0, done < total else {
            return "\(what): \(ByteCount.format(done)), \(speed), \(Int(elapsed))s"
        }
        let share = Int(Double(done) * 100 / Double(total))
        let left = rate > 0 ? "\(Int((Double(total - done) / rate).rounded(.up)))s left" : "?s left"
        return "\(what): \(ByteCount.format(done)) of \(exact ? "" : "~")\(ByteCount.format(total)) (\(share)%), "
            + "\(speed), \(left)"
    }
}
