import Engine
import Foundation

/// Picks the job and the backup a restore or verify means, including a backup given as a file path.
enum BackupChoice {
    static func resolve(
        options: CommonOptions, job name: String?, backup: String, from: String? = nil, overrides: [ConfigEntry] = []
    ) async throws -> (Job, BackupLocation) {
        try await resolve(jobs: try options.loadJobs(only: name, overrides: overrides, forReading: true), named: name,
                          backup: backup, from: from)
    }

    /// The same among `jobs`, loaded already (`name` the job they were narrowed to, if any).
    static func resolve(
        jobs: [Job], named name: String?, backup: String, from: String?
    ) async throws -> (Job, BackupLocation) {
        // A location (a path, an s3:// URL) that a destination plugin reads, rather than a name or `latest`.
        if let (place, file) = try ProcessSettings.registry.resolve(location: backup, job: jobs[0]) {
            let manifest: Manifest
            do {
                // Read as the destination reads it: a symbolic link in place of the manifest is refused.
                manifest = try Manifest.decode(try await place.read(name: file + Manifest.suffix,
                                                                    limit: Manifest.maximumBytes))
            } catch {
                throw Failure(message: "\(backup) has no readable manifest beside it (\(file)\(Manifest.suffix)): "
                              + "\(error)", exitCode: 1)
            }
            // The job's name leads to the backup's files: only a name this tool could have written.
            guard JobName.isValid(manifest.job), manifest.file == file else {
                throw Failure(message: "the manifest beside \(backup) names job "
                              + "\(manifest.job.debugDescription.prefix(120)), "
                              + "file \(manifest.file.debugDescription.prefix(120)); it is damaged or not ours",
                              exitCode: 1)
            }
            // The file's own job name finds it; the configured job (the one named, or the only one) says
            // how to restore (its source, its keys).
            let job = Job.named(manifest.job, in: jobs) ?? jobs[0]
            let catalog = await JobCatalog.build(job: manifest.job, at: [("location", place)])
            return (job, try catalog.find(.named(file)))
        }
        guard name != nil || jobs.count == 1 else {
            throw Failure(message: "name the job with --job; jobs: \(jobs.map(\.name).joined(separator: ", "))",
                          exitCode: 64)
        }
        do {
            let targets = try from.map { [try jobs[0].destination(named: $0)] }
            return (jobs[0], try await JobCatalog.build(jobs[0], at: targets).find(BackupSelector(backup)))
        } catch {
            throw Failure(message: "\(error)", exitCode: 1)
        }
    }
}
