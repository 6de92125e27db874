import Engine
import Foundation

/// Publishes two-phase: data goes to a hidden `.<name>.partial` file, which is fsynced and linked to its
/// final name only on commit (link, unlike rename, never replaces an existing backup), then the directory
/// is fsynced. Partial files are hidden, so `list` and retention never see them.
public struct LocalDestination: Destination {
    public let path: String

    public init(path: String) { self.path = path }

    public func checkWritable() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BackupError(.destination, "local.path \(path) does not exist; create it or mount a volume there")
        }
        guard isDirectory.boolValue else {
            throw BackupError(.destination, "local.path \(path) is not a directory")
        }
        // Unique per call: jobs sharing a directory check it concurrently in one process.
        let probe = "\(path)/.backup-write-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw BackupError(.destination,
                              "local.path \(path) is not writable (\(Errno.text())); fix its permissions or mount")
        }
        close(fd)
        unlink(probe)
    }

    public func begin(name: String) async throws -> any Upload {
        try LocalUpload(directory: path, name: name)
    }

    public func list(prefix: String) async throws -> [StoredObject] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw BackupError(.destination, "cannot list local.path \(path) (\(error.localizedDescription))")
        }
        return names.filter { !$0.hasPrefix(".") && $0.hasPrefix(prefix) }.sorted().compactMap { name in
            var info = stat()
            let full = "\(path)/\(name)"
            // lstat: a symbolic link is not a file of ours, whatever it points at.
            guard lstat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            return StoredObject(name: name, location: full, bytes: Int64(info.st_size))
        }
    }

    /// The object's path when it is still a regular file here (never a link).
    public func localFile(_ object: StoredObject) -> String? {
        let full = "\(path)/\(object.name)"
        var info = stat()
        guard lstat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return full
    }

    public func read(name: String) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await stream(name: name, chunkSize: 64 << 10) { bytes += $0 }
        return bytes
    }

    public func replace(name: String, bytes: [UInt8]) async throws {
        let final = try Self.file(name, in: path)
        let partial = "\(path)/.\(name).replacing"
        try Self.refuseLink(final)
        // A leftover, or a link someone planted: removed (unlink never follows), then created afresh.
        unlink(partial)
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Self.createFailure(partial) }
        Self.groupReadable(fd)
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { try LocalUpload.writeAll(fd, $0, path: final, alreadyWritten: 0) }
            guard fsync(fd) == 0 else { throw LocalUpload.failure(errno, path: final, written: 0) }
        } catch {
            unlink(partial)
            throw error
        }
        guard rename(partial, final) == 0 else {
            unlink(partial)
            throw BackupError(.destination, "cannot replace \(final) (\(Errno.text()))")
        }
        LocalUpload.syncDirectory(path)
    }

    public func stream(name: String, chunkSize: Int, into sink: ([UInt8]) async throws -> Void) async throws {
        let path = try Self.file(name, in: path)
        // O_NONBLOCK: opening a FIFO planted under our name must not wait for a writer; a regular file
        // ignores it.
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ELOOP { throw Self.linkError(path) }
            throw BackupError(errno == ENOENT ? .notFound : .destination, "cannot read \(path) (\(Errno.text()))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw BackupError(.corrupt, "\(path) is not a regular file where the backup expects one of its own;"
                + " remove it (and find out who put it there)")
        }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, chunkSize) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw BackupError(.destination, "cannot read \(path) (\(Errno.text()))") }
            if count == 0 { return }
            try await sink(Array(buffer[0..<count]))
        }
    }

    /// `directory/name` when `name` is one file in the directory: never a path (`a/b`, `..`), whatever
    /// a caller was told by a stored file.
    static func file(_ name: String, in directory: String) throws -> String {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.contains("\0") else {
            throw BackupError(.corrupt, "\(name.debugDescription.prefix(120)) is not a file name in \(directory);"
                + " a stored file that names it is damaged or not ours")
        }
        return "\(directory)/\(name)"
    }

    /// Fails when `path` is a symbolic link: every name we write or read is a file of our own.
    static func refuseLink(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK { throw linkError(path) }
    }

    static func linkError(_ path: String) -> BackupError {
        BackupError(.destination, "\(path) is a symbolic link where the backup expects a file of its own;"
            + " remove it (and find out who put it there)")
    }

    /// Why creating `path` (with O_EXCL | O_NOFOLLOW) failed, naming a planted link as such.
    static func createFailure(_ path: String) -> BackupError {
        let code = errno
        var info = stat()
        if lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK { return linkError(path) }
        return BackupError(.destination, "cannot create \(path) (\(Errno.text(code))); check local.path")
    }

    public func delete(name: String) async throws {
        if unlink(try Self.file(name, in: path)) != 0 && errno != ENOENT {
            throw BackupError(.destination, "cannot delete \(path)/\(name) (\(Errno.text()))")
        }
        LocalUpload.syncDirectory(path)
    }

    /// Makes a file just created 0640 whatever the umask took: the group reads it (a later pod of the job
    /// may run as another uid of the group, as OpenShift runs them), nobody else does.
    static func groupReadable(_ fd: Int32) {
        _ = fchmod(fd, 0o640)
    }
}
