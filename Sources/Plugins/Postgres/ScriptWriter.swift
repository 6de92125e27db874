import Engine
import Subprocess

/// Passes a SQL script on through ``RoleRenamer``, counting each table's rows as it passes.
struct ScriptWriter: Sendable {
    let map: [String: String]
    let tables: CounterBox
    let sink: @Sendable ([UInt8]) async throws -> Void
    private var renamer: RoleRenamer
    /// For a server older than the dump's pg_dump: drops the settings it does not have from the preamble.
    private var preamble: PreambleFilter?
    private var output: [UInt8] = []
    private var filtered: [UInt8] = []

    init(map: [String: String], tables: CounterBox, olderServer: Bool = false,
         sink: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.map = map
        self.tables = tables
        self.sink = sink
        renamer = RoleRenamer(map: map)
        preamble = olderServer ? PreambleFilter() : nil
    }

    var renamed: [String: Int] { renamer.renamed }

    mutating func write(_ chunk: [UInt8]) async throws {
        output.removeAll(keepingCapacity: true)
        if preamble?.done == false {
            filtered.removeAll(keepingCapacity: true)
            preamble?.filter(chunk, into: &filtered)
            filtered.withUnsafeBytes { renamer.rewrite($0, into: &output) }
        } else {
            chunk.withUnsafeBytes { renamer.rewrite($0, into: &output) }
        }
        try await flush()
    }

    mutating func finish() async throws {
        output.removeAll(keepingCapacity: true)
        if preamble?.done == false {
            filtered.removeAll(keepingCapacity: true)
            preamble?.finish(into: &filtered)
            filtered.withUnsafeBytes { renamer.rewrite($0, into: &output) }
        }
        renamer.finish(into: &output)
        try await flush()
    }

    private func flush() async throws {
        if let refused = renamer.refused {
            throw BackupError(.corrupt, "the dump holds the psql command \(refused.debugDescription),"
                + " which pg_dump never writes; it was not run, and the restore stopped")
        }
        guard !output.isEmpty else { return }
        output.withUnsafeBytes { tables.counter?.scan($0) }
        try await sink(output)
    }

    /// Writes all of `sequence` on; returns the names rewritten. When writing fails (psql stopped), `stop`
    /// ends the writer of `sequence`, which would otherwise wait for a reader forever.
    func pump(_ sequence: SubprocessOutputSequence, stop: @Sendable () -> Void) async throws -> [String: Int] {
        var own = self
        do {
            for try await buffer in sequence {
                try await own.write(buffer.withUnsafeBytes { Array($0) })
            }
            try await own.finish()
        } catch {
            stop()
            throw error
        }
        return own.renamed
    }
}
