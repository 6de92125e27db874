import CLibPQ
import Foundation

/// The password, handed to pg_dump, psql and pg_restore as a libpq password file that exists only in this
/// process's memory (memfd): the tools open it as `/proc/<our pid>/fd/<n>` (libpq insists on a regular file
/// that only its owner can read, which it is). Unlike `PGPASSWORD`, the password is then in no child's
/// environment; unlike a file on disk, nothing is left behind, not even when this process is killed.
final class PassFile: Sendable {
    /// Sendable: set once in `init`, closed in `deinit`.
    private let descriptor: Int32

    /// Nil when the system cannot make one (then `PGPASSWORD` is used).
    init?(password: String) {
        #if os(Linux)
        let fd = backup_memfd_create("backup-pgpass")
        guard fd >= 0 else { return nil }
        // Any host, port, database and user: only our own tools read it, for the connections we make.
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
        let line = Array("*:*:*:*:\(escaped)\n".utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard fchmod(fd, 0o600) == 0, written == line.count else {
            close(fd)
            return nil
        }
        descriptor = fd
        #else
        return nil
        #endif
    }

    deinit { close(descriptor) }

    /// What `PGPASSFILE` names; valid while this object lives.
    var path: String { "/proc/\(getpid())/fd/\(descriptor)" }
}
