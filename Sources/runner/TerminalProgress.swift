import Engine
import Foundation

/// A one-line progress display on stderr, only when stderr is a terminal (never in a pod's log).
final class TerminalProgress: ProgressObserver, Sendable {
    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    func progress(job: String, rawBytes: Int64, estimatedTotal: Int64?, elapsed: Double) {
        let rate = elapsed > 0 ? Double(rawBytes) / elapsed : 0
        var line = "\(job): \(ByteCount.format(rawBytes)) read, \(ByteCount.format(Int64(rate)))/s, "
            + "\(String(format: "%.0f", elapsed))s"
        if let total = estimatedTotal, total > 0 {
            // The database's size on disk includes indexes and bloat, so this is only a rough share.
            line += String(format: ", ~%.0f%% of the database size", min(99, Double(rawBytes) * 100 / Double(total)))
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    func restoring(bytes: Int64, of total: Int64) {
        let share = total > 0 ? Double(bytes) * 100 / Double(total) : 0
        let line = "restoring: \(ByteCount.format(bytes)) of \(ByteCount.format(total)) "
            + "(\(String(format: "%.0f", share))%)"
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    func finished(job: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
