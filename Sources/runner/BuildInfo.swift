/// What this build of `backup` is, for `backup --version` and the `backup_build_info` gauge.
enum BuildInfo {
    /// The release; the manifests in deploy/ name its image tag.
    static let version = "0.1.0"
    /// The commit built from (`+changes` when the work tree differed), and its date; from the BuildInfo plugin.
    static let commit = BuildRevision.commit
    static let commitDate = BuildRevision.date
    /// What each manifest records as `written_by`.
    static var writer: String { "backup \(version) (commit \(commit))" }
    /// What each source plugin finds here (which pg_dump versions), a line each: `postgres: pg_dump 15.18 at …`.
    static func tools() async -> [String] {
        var lines: [String] = []
        for factory in ProcessSettings.registry.sources {
            for line in await factory.tools() { lines.append("\(factory.name): \(line)") }
        }
        return lines
    }

    /// The Swift compiler it was built with.
    static let swift: String = {
        #if compiler(>=6.5)
        return "6.5 or newer"
        #elseif compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #else
        return "6.1"
        #endif
    }()
}
