import Foundation

/// Where a configuration leaves a secret readable by every user of the machine: a secret's `_file` that
/// everyone may read, or a secret written out in a configuration file that everyone may read (a `${VAR}`
/// there is fine: the file holds only the variable's name). Warnings, not errors: in a pod "everyone" is
/// the pod's own processes, and the shipped manifests mount secrets 0440 anyway.
public enum SecretAudit {
    /// One line per finding, naming the file, the key and the fix; `text` is the configuration file's
    /// text (nil when the configuration came from the environment), `mode` a file's permission bits.
    public static func warnings(
        _ document: ConfigDocument, text: String?, loader: JobLoader,
        mode: (String) -> UInt32? = SecretAudit.permissions
    ) -> [String] {
        let lines = text.map { $0.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) }
        let openConfig = mode(document.file).map(isWorldReadable) == true
        var warnings: [String] = []
        for entry in document.defaults + document.sections.flatMap(\.entries) where loader.isSecret(entry.key) {
            let place = entry.line.map { "\(entry.file):\($0)" } ?? entry.file
            if entry.key.hasSuffix("_file") {
                guard let bits = mode(entry.value), isWorldReadable(bits) else { continue }
                warnings.append("\(entry.value) (\(entry.key), \(place)) is readable by every user of this machine "
                                + "(mode \(octal(bits))); chmod 600 it, or mount the Secret with defaultMode 0400")
            } else if openConfig, let number = entry.line, let raw = lines?[safe: number - 1], writesOut(raw) {
                warnings.append("\(place): \(entry.key) is written out in a file every user of this machine can read "
                                + "(mode \(octal(mode(document.file) ?? 0))); use \(entry.key)_file or ${VAR}, "
                                + "or chmod 600 \(document.file)")
            }
        }
        return warnings.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    /// The permission bits of the file at `path` (links followed, as reading it does); nil when it cannot
    /// be examined.
    public static func permissions(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }

    static func isWorldReadable(_ bits: UInt32) -> Bool { bits & 0o004 != 0 }

    /// Whether a line holds its value itself: no `${VAR}`, or a `${VAR:-default}` whose default is text.
    static func writesOut(_ line: Substring) -> Bool {
        guard line.contains("${") else { return true }
        return line.firstMatch(of: /\$\{[A-Za-z0-9_]+:-[^}$]/) != nil
    }

    static func octal(_ bits: UInt32) -> String { "0" + String(bits, radix: 8) }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
