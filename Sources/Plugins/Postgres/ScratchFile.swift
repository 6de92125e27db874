import Engine
import Foundation

/// The decoded copy of a custom dump that a parallel restore gives `pg_restore --jobs` (which must seek):
/// created new (never an existing file, never through a link), readable by its owner only, and removed in
/// every case by whoever made it; a copy a killed restore left (its process gone) is removed by the next
/// parallel restore in the same directory.
final class ScratchFile {
    static let prefix = ".backup-restore-"
    let path: String
    private var descriptor: Int32
    private var removed = false

    /// A new file in `directory`, after removing what killed restores left there.
    init(in directory: String) throws {
        Self.removeLeftovers(in: directory)
        let path = "\(directory)/\(Self.prefix)\(getpid())-\(UUID().uuidString.prefix(8)).dump"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw BackupError(.config, "cannot create a scratch file in restore.scratch_dir \(directory) "
                + "(\(String(cString: strerror(errno)))); set restore.scratch_dir to a writable directory, "
                + "or pass --jobs 1 to stream the backup instead")
        }
        self.path = path
        descriptor = fd
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Foundation.write(descriptor, $0.baseAddress! + offset, $0.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let full = errno == ENOSPC || errno == EDQUOT
                throw BackupError(full ? .destinationFull : .sourceFailed,
                                  "writing the scratch copy \(path) failed (\(String(cString: strerror(errno))))"
                                      + (full ? "; free space there, set restore.scratch_dir, or pass --jobs 1" : ""))
            }
            offset += written
        }
    }

    func close() {
        if descriptor >= 0 { Foundation.close(descriptor) }
        descriptor = -1
    }

    func remove() {
        close()
        if !removed { unlink(path) }
        removed = true
    }

    deinit { remove() }

    /// Removes the scratch files in `directory` whose process is gone (a restore killed with SIGKILL).
    static func removeLeftovers(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".dump") {
            let pid = Int32(name.dropFirst(prefix.count).prefix { $0.isASCII && $0.isNumber }) ?? 0
            guard pid > 0, pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            var info = stat()
            // Only a regular file of ours: never follow a link planted under such a name.
            guard lstat("\(directory)/\(name)", &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                  info.st_uid == geteuid() else { continue }
            unlink("\(directory)/\(name)")
        }
    }

    /// The directory a parallel restore decodes into: `configured`, else $TMPDIR, else /tmp.
    static func directory(_ configured: String?) -> String {
        if let configured, !configured.isEmpty { return configured }
        let temporary = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        return temporary.isEmpty ? "/tmp" : (temporary.hasSuffix("/") ? String(temporary.dropLast()) : temporary)
    }

    /// Fails when `directory` lacks the room for `bytes` (the dump's raw size) or is not a directory.
    static func checkSpace(in directory: String, for bytes: Int64) throws -> String {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else {
            throw BackupError(.config, "restore.scratch_dir \(directory) cannot be used "
                + "(\(String(cString: strerror(errno)))); set it to a writable directory, or pass --jobs 1")
        }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        guard free >= bytes else {
            throw BackupError(.destinationFull, "restore.scratch_dir \(directory) has \(ByteCount.format(free)) "
                + "free; the decoded backup needs \(ByteCount.format(bytes)): free space there, set "
                + "restore.scratch_dir elsewhere, or pass --jobs 1 to stream the backup in one session instead")
        }
        return "the scratch copy (\(ByteCount.format(bytes))) fits in \(directory) (\(ByteCount.format(free)) free)"
    }
}
