import Foundation
import Subprocess

/// Reads `pg_restore --verbose`'s stderr as it comes: when the last table's data was in (the last
/// `… TABLE DATA …` line of a parallel restore, or the line after a serial one's last `processing data
/// for table`), and the lines that say what went wrong, for the error message.
enum RestoreProgress {
    static func watch(_ sequence: SubprocessOutputSequence, clock: ContinuousClock) async throws
        -> (dataDone: ContinuousClock.Instant?, errors: String)
    {
        var pending: [UInt8] = []
        var dataDone: ContinuousClock.Instant?
        var afterSerialData = false
        var problems: [String] = []
        var last: [String] = []
        for try await buffer in sequence {
            pending += buffer.withUnsafeBytes { Array($0) }
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                let now = clock.now
                if afterSerialData { dataDone = now }
                afterSerialData = line.contains("processing data for table")
                if line.contains(" TABLE DATA ") { dataDone = now }
                last = Array((last + [line]).suffix(3))
                let lower = line.lowercased()
                if lower.contains("error") || line.contains("FATAL") || line.contains("DETAIL")
                    || line.contains("Command was") {
                    problems = Array((problems + [String(line.prefix(500))]).suffix(4))
                }
            }
            // A line longer than this is not one pg_restore writes; keep memory bounded.
            if pending.count > 1 << 16 { pending.removeAll() }
        }
        let errors = (problems.isEmpty ? last : problems).map { $0.trimmingCharacters(in: .whitespaces) }
        return (dataDone, errors.joined(separator: " | "))
    }
}
