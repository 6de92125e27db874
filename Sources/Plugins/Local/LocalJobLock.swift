import Engine
import Foundation

/// Holds the flock until released; the lock file is emptied on release, so only a dead holder leaves a pid.
final class LocalJobLock: JobLock {
    private let fd: Int32
    private let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// The kernel holds the lock as long as the file is open.
    func renew() async throws {}

    func release() async throws {
        _ = ftruncate(fd, 0)
        close(fd)
    }
}
