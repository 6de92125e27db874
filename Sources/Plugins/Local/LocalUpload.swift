import Engine
import Foundation

/// One backup being written to a local directory.
final class LocalUpload: Upload {
    private let directory: String
    private let name: String
    private var fd: Int32
    private var written: Int64 = 0
    /// Everything this upload created, so `abort` removes exactly that.
    private var created: [String] = []

    init(directory: String, name: String) throws {
        self.directory = directory
        self.name = name
        _ = try LocalDestination.file(name, in: directory)
        let partial = "\(directory)/.\(name).partial"
        fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw LocalDestination.createFailure(partial) }
        created.append(partial)
        LocalDestination.groupReadable(fd)
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ bytes: [UInt8]) async throws {
        try bytes.withUnsafeBytes { try Self.writeAll(fd, $0, path: "\(directory)/\(name)", alreadyWritten: written) }
        written += Int64(bytes.count)
        if written - flushed >= Self.writebackStep { startWriteback() }
    }

    /// Bytes whose writeback to disk has been started.
    private var flushed: Int64 = 0
    private static let writebackStep: Int64 = 8 << 20

    /// Asks the kernel to start writing what we wrote so far, without waiting: by the time `commit`
    /// fsyncs, little is left to write, so the fsync does not add a long pause at the end of the backup.
    /// On Linux, POSIX_FADV_DONTNEED starts writeback of the range's dirty pages and drops those already
    /// written, so a backup also does not push the database's own pages out of the page cache.
    private func startWriteback() {
        _ = posix_fadvise(fd, off_t(flushed), off_t(written - flushed), POSIX_FADV_DONTNEED)
        flushed = written
    }

    func commit(sidecars: [(name: String, bytes: [UInt8])]) async throws -> StoredObject {
        let final = "\(directory)/\(name)"
        guard fsync(fd) == 0 else { throw Self.failure(errno, path: final, written: written) }
        close(fd)
        fd = -1
        for sidecar in sidecars {
            CrashPoint.reach("local.before-sidecar:\(sidecar.name.dropFirst(name.count))")
            try publishSidecar(sidecar.name, sidecar.bytes)
            CrashPoint.reach("local.after-sidecar:\(sidecar.name.dropFirst(name.count))")
        }
        guard link("\(directory)/.\(name).partial", final) == 0 else {
            throw BackupError(.destination, "cannot publish \(final) (\(Errno.text()))")
        }
        CrashPoint.reach("local.after-data")
        created = []
        unlink("\(directory)/.\(name).partial")
        Self.syncDirectory(directory)
        return StoredObject(name: name, location: final, bytes: written)
    }

    func abort() async {
        if fd >= 0 { close(fd) }
        fd = -1
        for path in created { unlink(path) }
        created = []
        Self.syncDirectory(directory)
    }

    private func publishSidecar(_ sidecar: String, _ bytes: [UInt8]) throws {
        let final = try LocalDestination.file(sidecar, in: directory)
        let partial = "\(directory)/.\(sidecar).partial"
        let sideFD = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard sideFD >= 0 else { throw LocalDestination.createFailure(partial) }
        created.append(partial)
        LocalDestination.groupReadable(sideFD)
        defer { close(sideFD) }
        try bytes.withUnsafeBytes { try Self.writeAll(sideFD, $0, path: final, alreadyWritten: 0) }
        guard fsync(sideFD) == 0 else { throw Self.failure(errno, path: final, written: 0) }
        guard link(partial, final) == 0 else {
            throw BackupError(.destination, "cannot publish \(final) (\(Errno.text()))")
        }
        created.append(final)
        unlink(partial)
        created.removeAll { $0 == partial }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, alreadyWritten: Int64) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(errno, path: path, written: alreadyWritten + Int64(offset))
            }
            offset += n
        }
    }

    static func failure(_ code: Int32, path: String, written: Int64) -> BackupError {
        if code == ENOSPC || code == EDQUOT {
            return BackupError(.destinationFull,
                "\(path): no space left on the volume after \(written) bytes;"
                    + " free space, grow the volume or lower the retention count")
        }
        return BackupError(.destination, "cannot write \(path) (\(String(cString: strerror(code))))")
    }

    static func syncDirectory(_ directory: String) {
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { return }
        fsync(dirFD)
        close(dirFD)
    }
}
