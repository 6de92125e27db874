import Engine
import Foundation

extension JobEvent {
    /// One line for people: what happened, how big, how long, and the error.
    package var summaryLine: String {
        let server = databases.isEmpty ? nil : "\(job) (whole server, \(databases.count) databases)"
        let what = server ?? database.map { "\(job) (database \($0))" } ?? job
        let seconds = String(format: "%.1f", durationSeconds)
        switch status {
        case .success:
            let size = ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary)
            let verified = verification == "passed" ? ", verified" : ""
            return "Backup of \(what) succeeded: \(size) in \(seconds) s\(verified)\(file.map { ", \($0)" } ?? "")"
        case .failure:
            return "Backup of \(what) FAILED after \(seconds) s: \(error ?? "unknown error")"
        case .partial where !databases.isEmpty:
            let stored = databases.filter { $0.status == .success }.count
            return "Backup of \(what) PARTIAL after \(seconds) s: \(stored) stored in full: \(error ?? "unknown error")"
        case .partial:
            let stored = destinations.filter { $0.status == .success }.map(\.name).joined(separator: ", ")
            return "Backup of \(what) PARTIAL after \(seconds) s: stored at \(stored) only: \(error ?? "unknown error")"
        }
    }
}
