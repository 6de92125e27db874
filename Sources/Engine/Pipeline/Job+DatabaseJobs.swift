extension Job {
    /// The jobs of this whole-server job's databases that have files at `targets` (every destination by
    /// default), found by listing `<job>.`: each database's job (``forDatabase(_:)``), sorted by name, once
    /// however many destinations hold it. A dropped database's backups are found too. Empty for a job of
    /// one database. Throws when a destination cannot be listed.
    public func storedDatabaseJobs(at targets: [JobDestination]? = nil) async throws -> [Job] {
        guard source is any ServerSource else { return [] }
        var databases: Set<String> = []
        for target in targets ?? destinations {
            for object in try await target.destination.list(prefix: name + ".") {
                guard let owner = JobName.databaseJob(owning: object.name, under: name),
                      let database = JobName.database(in: owner, of: name) else { continue }
                databases.insert(database)
            }
        }
        return databases.sorted().compactMap { forDatabase($0) }
    }
}
