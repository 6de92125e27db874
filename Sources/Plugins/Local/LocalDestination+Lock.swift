import Engine
import Foundation

/// One lock file per job, `.<job>.lock`, held with flock(2): the kernel releases it when the holder exits
/// or is killed, so a dead holder never blocks the next run, and no lease is needed (renewing does
/// nothing). The file holds the holder's pid for messages.
///
/// Pods of one job may run as different uids of one group (OpenShift gives each pod an arbitrary uid, in
/// group 0): the file is made group-writable (0660, whatever the umask), and one this uid cannot write
/// (made before that, or by another user) is locked through a read-only descriptor, which flock allows.
extension LocalDestination: LockingDestination {
    public func lock(job: String, wait: Bool,
                     lease: Duration) async throws -> (lock: any JobLock, tookOverFrom: String?) {
        let path = "\(self.path)/.\(job).lock"
        // O_NOFOLLOW: a link planted here would have us truncate whatever it points at.
        var fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o660)
        if fd < 0 && errno == EACCES { fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else {
            if errno == ELOOP { throw Self.linkError(path) }
            throw BackupError(.destination, "cannot open lock file \(path) (\(Errno.text()))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw BackupError(.destination, "lock file \(path) is not a regular file; remove it")
        }
        if info.st_uid == geteuid(), info.st_mode & 0o777 != 0o660 { _ = fchmod(fd, 0o660) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(fd)
                throw BackupError(.destination, "cannot lock \(path) (\(Errno.text()))")
            }
            guard wait else {
                let holder = Self.contents(fd) ?? "another process"
                close(fd)
                throw BackupError(.targetBusy,
                                  "job \(job) is already running (\(holder) holds \(path)); pass --wait to wait for it")
            }
            do {
                try await Task.sleep(for: .milliseconds(250))
            } catch {
                close(fd)
                throw error
            }
        }
        // Whoever wrote the file before us and did not remove it died holding the lock.
        let previous = Self.contents(fd)
        let record = "pid \(getpid())"
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, record, record.utf8.count, 0)
        return (LocalJobLock(fd: fd, path: path), previous)
    }

    public func removeLeftovers(job: String) async throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let leftovers = names.filter { name in
            // `.app_20261125T010000Z.sql.gz.partial`, or a manifest or globals file half-published.
            guard name.hasPrefix("."), let suffix = [".partial", ".replacing"].first(where: { name.hasSuffix($0) })
            else { return false }
            // Exactly this job's: job `x` never takes job `x_20260101T000000Z`'s upload for its own.
            return JobName.backup(owning: String(name.dropFirst().dropLast(suffix.count)), job: job) != nil
        }
        for name in leftovers { unlink("\(path)/\(name)") }
        if !leftovers.isEmpty { LocalUpload.syncDirectory(path) }
        return leftovers
    }

    /// The pid the lock file names: a run holds the lock, or one died holding it (the kernel released it
    /// then, and the next run takes it over). Read without flock, which a starting run would trip over.
    public func lockHolder(job: String) async throws -> String? {
        let path = "\(self.path)/.\(job).lock"
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
              let holder = Self.contents(fd)?.trimmingCharacters(in: .whitespacesAndNewlines), !holder.isEmpty
        else { return nil }
        return "\(holder) (running, or died holding it: the next run takes it over)"
    }

    private static func contents(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = pread(fd, &buffer, 64, 0)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}
