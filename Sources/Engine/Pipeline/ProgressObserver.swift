/// Receives progress while a backup streams; the runner shows it on a terminal.
public protocol ProgressObserver: Sendable {
    /// Called at most a few times a second with the uncompressed bytes read so far.
    func progress(job: String, rawBytes: Int64, estimatedTotal: Int64?, elapsed: Double)
    /// Called once the dump ended, successfully or not, before the outcome is logged.
    func finished(job: String)
}
