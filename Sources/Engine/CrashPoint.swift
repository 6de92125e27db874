import Foundation

/// Named instants at which a test can have the process die as `kill -9` would, to prove that a crash at
/// any of them leaves nothing behind after the next run. Set `BACKUP_TEST_CRASH_AT` to a point's name;
/// unset (always, outside the tests), `reach` does nothing.
public enum CrashPoint {
    private static let target = ProcessInfo.processInfo.environment["BACKUP_TEST_CRASH_AT"]

    /// Dies at once with SIGKILL when `name` is the point the environment names.
    public static func reach(_ name: @autoclosure () -> String) {
        guard let target, target == name() else { return }
        kill(getpid(), SIGKILL)
    }
}
