import Engine
import Foundation

/// What `backup now` prints on stdout for a person at a terminal, one line per job (the logs stay on stderr):
/// `shop: 339.1 KiB → 39.6 KiB (gzip) in 0.09 s → local, s3`.
enum RunSummary {
    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    static func line(_ event: JobEvent, job: Job) -> String {
        let seconds = String(format: "%.2f", event.durationSeconds)
        let chain = job.stages.isEmpty ? "" : " (\(job.stages.map(\.stage.name).joined(separator: "+")))"
        let server = event.databases.isEmpty ? "" : "\(event.databases.count) databases, "
        let sizes = "\(server)\(ByteCount.format(event.rawBytes)) → \(ByteCount.format(event.bytes))\(chain)"
        let stored = event.destinations.filter { $0.status == .success }.map(\.name)
        let missed = event.destinations.filter { $0.status != .success }.map(\.name)
        let verified = event.verification == "passed" ? ", verified" : ""
        switch event.status {
        case .success:
            return "\(event.job): \(sizes) in \(seconds) s → \(stored.joined(separator: ", "))\(verified)"
        case .partial:
            let at = missed.isEmpty ? "" : "; NOT at \(missed.joined(separator: ", "))"
            return "\(event.job): PARTIAL: \(sizes) in \(seconds) s → \(stored.joined(separator: ", "))\(at): "
                + (event.error ?? "")
        case .failure:
            return "\(event.job): FAILED after \(seconds) s: \(event.error ?? "unknown error")"
        }
    }
}
