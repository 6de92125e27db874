import Engine

extension [Job] {
    /// These jobs, each whole-server job followed by its databases' jobs that have backups (at `from`, when
    /// given, else at every destination): what verify and prune go over when no database's job is named.
    func withDatabaseJobs(from: String? = nil) async throws -> [Job] {
        var all: [Job] = []
        for job in self {
            all.append(job)
            // A `from` naming no destination of the job is the command's own error to report, with its words.
            let targets = from.flatMap { name in job.destinations.first { $0.name == name } }.map { [$0] }
            do {
                all += try await job.storedDatabaseJobs(at: targets)
            } catch {
                throw Failure(message: "cannot list job \(job.name): \(error)", exitCode: 1)
            }
        }
        return all
    }
}
