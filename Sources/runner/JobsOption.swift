import ArgumentParser
import Engine
import PluginSupport
import Foundation

/// `--jobs N` of restore and verify: how many sessions load the data and build the indexes at once.
struct JobsOption: ParsableArguments {
    @Option(name: .long, help: """
        Sessions that load the data and build the indexes of a custom-format backup at once (default: \
        $BACKUP_RESTORE_JOBS, else the cores this process may use, at least 2). A backup pg_restore cannot \
        read in place (encrypted, in object storage, or compressed by a stage) is first decoded into \
        restore.scratch_dir; by default only when that copy is no larger than the stored file (one a \
        compressor stage shrank streams instead: measured faster). 1 streams it into one session in one \
        transaction. Plain backups always stream.
        """)
    var jobs: Int?

    func validate() throws {
        if let jobs, !(1...64).contains(jobs) { throw ValidationError("--jobs must be from 1 to 64") }
        if jobs == nil, let text = ProcessInfo.processInfo.environment["BACKUP_RESTORE_JOBS"], !text.isEmpty,
           !(Int(text).map { (1...64).contains($0) } ?? false) {
            throw ValidationError("BACKUP_RESTORE_JOBS must be a number from 1 to 64")
        }
    }

    /// The number of sessions to use.
    var value: Int {
        if let jobs { return jobs }
        if let text = ProcessInfo.processInfo.environment["BACKUP_RESTORE_JOBS"], let jobs = Int(text) { return jobs }
        return max(2, CPUCount.available)
    }

    /// `options` with these jobs and `job`'s scratch directory.
    func applied(to options: RestoreOptions, job: Job) -> RestoreOptions {
        var options = options
        options.parallelism = value
        options.parallelismIsDefault = jobs == nil
            && (ProcessInfo.processInfo.environment["BACKUP_RESTORE_JOBS"] ?? "").isEmpty
        options.scratchDirectory = job.restoreScratchDirectory
        return options
    }
}
