import Engine

extension [Job] {
    /// These jobs, each whole-server job followed by its databases' jobs that have backups (at `from`, when
    /// given, else at every destination): what verify and prune go over when no database's job is named.
    func withDatabaseJobs(from: String? = nil) async throws -> [Job] {
        var all: [Job] = []
        for job in self {
            all.append(job)
            let targets = try from.map { [try job.destination(named: $0)] }
            do {
                all += try await job.storedDatabaseJobs(at: targets)
            } catch {
                throw Failure(message: "cannot list job \(job.name): \(error)", exitCode: 1)
            }
        }
        return all
    }
}
