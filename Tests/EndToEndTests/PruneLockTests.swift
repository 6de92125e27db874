import Foundation
import Testing
import TestSupport

/// `backup prune` holds the job's lock, as a backup does: a backup's retention and a prune never decide
/// over the same files at once. While a backup runs, prune refuses naming the holder; with `--wait` it
/// waits and prunes once the backup is over; `--dry-run` deletes nothing and needs no lock.
@Suite struct PruneLockTests {
    @Test(.timeLimit(.minutes(10))) func pruneRefusesOrWaitsWhileABackupHoldsTheLock() async throws {
        let s = try await FailureTests.Scenario.make("prunelock")
        defer { s.cleanUp() }
        // A backup that holds the lock until it is stopped: 50 kB of the dump, then nothing.
        try s.usePgDumpStandIn("""
            /usr/bin/pg_dump "$@" | head -c 50000
            exec sleep 63
            """)
        let result = try await Shell.sh("""
            '\(Paths.backup)' now --config '\(s.cli.configPath)' 2>/dev/null & pid=$!
            for i in $(seq 1 240); do ls -a '\(s.cli.backups)' | grep -q partial && break; sleep 0.5; done
            echo "backup=$pid"
            '\(Paths.backup)' prune --config '\(s.cli.configPath)'; echo "refused=$?"
            '\(Paths.backup)' prune --dry-run --config '\(s.cli.configPath)' >/dev/null; echo "dry_run=$?"
            ( '\(Paths.backup)' prune --wait --config '\(s.cli.configPath)' >/dev/null; echo "waited=$? at $(date +%s%N)" ) & waiter=$!
            sleep 2
            echo "backup_stopped_at=$(date +%s%N)"
            kill -TERM $pid; wait $pid
            wait $waiter
            """, environment: s.cli.environment)
        let backupPID = result.stdout.components(separatedBy: "backup=").last?.prefix { $0.isNumber } ?? ""
        #expect(result.stdout.contains("refused=1"), "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("prune of job app failed: job app is already running (pid \(backupPID) holds")
                && result.stderr.contains("pass --wait"), "\(result.stderr)")
        #expect(result.stdout.contains("dry_run=0"), "\(result.stdout) \(result.stderr)")
        let waited = result.stdout.components(separatedBy: "waited=").last ?? ""
        #expect(waited.hasPrefix("0 at "), "\(result.stdout) \(result.stderr)")
        let stopped = Int(result.stdout.components(separatedBy: "backup_stopped_at=").last?.prefix { $0.isNumber } ?? "") ?? .max
        let finished = Int(waited.dropFirst(5).prefix { $0.isNumber }) ?? 0
        #expect(finished > stopped, "prune --wait finished only after the backup was stopped")
        #expect(try s.cli.files().contains(s.goodBackup), "the good backup stays")
    }
}
