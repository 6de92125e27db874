import Foundation

/// `pg_dump` stand-ins, given to a job as `postgres.pg_dump`: a dump that fails, hangs or misbehaves on cue.
package enum FakePgDump {
    /// An executable `pg_dump` stand-in: answers `--version` (as the real one, or as `version`), runs `body` otherwise.
    package static func write(in directory: String, version: String? = nil, body: String) throws -> String {
        let path = "\(directory)/pg_dump"
        let versionLine = version.map { "echo 'pg_dump (PostgreSQL) \($0)'; exit 0" } ?? "exec /usr/bin/pg_dump --version"
        try """
            #!/bin/sh
            if [ "$1" = "--version" ]; then \(versionLine); fi
            \(body)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    /// The end of a body that hangs: the stand-in adds its pid to `stand-in.pids` beside itself, then sleeps
    /// as that pid until killed, so the test ends it by pid (``endStandIn(in:)``), never by name.
    package static let hang = #"echo $$ >> "$(dirname "$0")/stand-in.pids"; exec sleep 600"#

    /// How long SIGTERM to exit may take with a hanging stand-in: pg_dump's grace is about 3 s, then SIGKILL;
    /// the margin is for a loaded machine, the bound tells that from a stand-in that sleeps until killed.
    package static let graceBound: Duration = .seconds(60)

    /// The pids of the stand-ins in `directory` that reached ``hang``.
    package static func hanging(in directory: String) -> [pid_t] {
        let text = (try? String(contentsOfFile: "\(directory)/stand-in.pids", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Kills the hanging stand-ins in `directory` (by the pids they wrote) that still run; whether one did.
    @discardableResult
    package static func endStandIn(in directory: String) -> Bool {
        let running = hanging(in: directory).filter(Processes.isRunning)
        for pid in running { kill(pid, SIGKILL) }
        return !running.isEmpty
    }
}
