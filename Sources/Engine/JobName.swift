import Foundation

/// Job names end up in file names, so they are restricted to a portable set of characters.
public enum JobName {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 100 && !name.hasPrefix(".")
            && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "-._".contains($0) }
    }

    /// The file name of a backup: `<job>_<UTC timestamp>.<ext>`, then each stage's extension in order
    /// (`app_20260101T000000Z.sql.zst`, later `.sql.zst.age`).
    public static func backupFileName(
        job: String, started: Date, dumpExtension: String, stageExtensions: [String]
    ) -> String {
        ([ "\(job)_\(Timestamp.compact(started))", dumpExtension] + stageExtensions).joined(separator: ".")
    }

    /// The backup of `job` that `fileName` belongs to: itself when it is a backup, the backup a sidecar
    /// (`<backup>.<word>.json`, e.g. its manifest) belongs to; nil when the file is not the job's. Exact:
    /// a job named `x` owns none of job `x_20260101T000000Z`'s files.
    public static func backup(owning fileName: String, job: String) -> (backup: String, isSidecar: Bool)? {
        if isBackupFile(fileName, of: job) { return (fileName, false) }
        guard fileName.hasSuffix(".json") else { return nil }
        let stem = fileName.dropLast(5)
        guard let dot = stem.lastIndex(of: "."),
              stem[stem.index(after: dot)...].allSatisfy({ $0.isASCII && $0.isLetter }),
              stem.index(after: dot) < stem.endIndex else { return nil }
        let backup = String(stem[..<dot])
        return isBackupFile(backup, of: job) ? (backup, true) : nil
    }

    /// True when `name` is a sidecar name the engine writes for `backup`: `<backup>.<word>.json`, the word
    /// lower-case ASCII letters and not `manifest` (the manifest is not one of its own sidecars). What a
    /// stored manifest lists is checked against this before anything is read, copied or deleted by it.
    public static func isSidecar(_ name: String, of backup: String) -> Bool {
        guard name.hasPrefix(backup + "."), name.hasSuffix(".json") else { return false }
        let word = name.dropFirst(backup.count + 1).dropLast(5)
        return !word.isEmpty && word.count <= 32 && word != "manifest"
            && word.allSatisfy { $0.isASCII && $0.isLowercase }
    }

    /// A backup's ID, as `backup list` shows it and `--backup` takes it: the UTC time in its file name
    /// (`20261206T001230Z`); nil when `fileName` is not a backup of `job`.
    public static func id(of fileName: String, job: String) -> String? {
        isBackupFile(fileName, of: job) ? String(fileName.dropFirst(job.count + 1).prefix(16)) : nil
    }

    /// True when `fileName` has the shape of a backup of `job`; the manifest decides the rest.
    public static func isBackupFile(_ fileName: String, of job: String) -> Bool {
        let prefix = job + "_"
        guard fileName.hasPrefix(prefix) else { return false }
        let rest = fileName.dropFirst(prefix.count)
        guard Timestamp.parseCompact(rest.prefix(16)) != nil else { return false }
        // Extensions come from plugins, so only their shape is checked here: `.sql`, `.dump.zst`, ...
        let extensions = rest.dropFirst(16)
        return extensions.hasPrefix(".") && !extensions.hasSuffix(".") && !extensions.contains("..")
            && extensions.allSatisfy { $0 == "." || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
            && !extensions.hasSuffix(".json")
    }
}
