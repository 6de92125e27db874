import Foundation

extension JobName {
    /// The job name under which database `database` of whole-server job `job` is backed up:
    /// `<job>.<database>`, every byte of the database's name other than ASCII letters, digits, `-` and `_`
    /// written as `%XX` (so `my db` is `my%20db`, and no name can hold a path separator or a dot); nil when
    /// the result is too long for a file name (beyond 210 bytes, leaving room for the timestamp and
    /// extensions under the 255 bytes file systems allow).
    public static func forDatabase(_ database: String, of job: String) -> String? {
        var encoded = ""
        for byte in database.utf8 {
            let kept = (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            encoded += kept ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }
        let name = "\(job).\(encoded)"
        return !database.isEmpty && name.utf8.count <= 210 ? name : nil
    }

    /// The database whose job `name` is within whole-server job `job` (the inverse of
    /// ``forDatabase(_:of:)``); nil when `name` is not such a name.
    public static func database(in name: String, of job: String) -> String? {
        guard name.hasPrefix(job + ".") else { return nil }
        var bytes: [UInt8] = []
        var rest = Substring(name.dropFirst(job.count + 1)).utf8[...]
        while let byte = rest.first {
            rest = rest.dropFirst()
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard rest.count >= 2, let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
            rest = rest.dropFirst(2)
        }
        guard let database = String(validating: bytes, as: UTF8.self),
              forDatabase(database, of: job) == name else { return nil }
        return database
    }

    /// The name of the database job under `job` that file `name` belongs to (`fleet.app` for
    /// `fleet.app_20260101T000000Z.sql` and its sidecars); nil when it has no such shape.
    public static func databaseJob(owning name: String, under job: String) -> String? {
        guard name.hasPrefix(job + ".") else { return nil }
        // A database's name may hold `_` (even `_<timestamp>`): the owner is the first name, up to an
        // `_`, of which the file is a backup or a sidecar; a shorter one fails on what follows the timestamp.
        var index = name.index(name.startIndex, offsetBy: job.count + 1)
        while let underscore = name[index...].firstIndex(of: "_") {
            let owner = String(name[..<underscore])
            if JobName.backup(owning: name, job: owner) != nil { return owner }
            index = name.index(after: underscore)
        }
        return nil
    }
}
