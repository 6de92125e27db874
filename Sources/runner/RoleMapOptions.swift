import ArgumentParser

/// `--map-role SOURCE=TARGET`, repeatable: a restore or verify gives the source role's objects, grants and
/// memberships to an existing role of the target instead of creating the source role.
struct RoleMapOptions: ParsableArguments {
    @Option(name: .customLong("map-role"), help: ArgumentHelp(
        "Give the source role SOURCE's objects and grants to the existing role TARGET instead of creating SOURCE "
            + "(e.g. postgres=admin on a server whose superuser is admin); repeatable.",
        valueName: "SOURCE=TARGET"))
    var mapRole: [String] = []

    func validate() throws {
        _ = try roleMap()
    }

    /// Source role to target role; throws a usage error naming the option as given.
    func roleMap() throws -> [String: String] {
        var map: [String: String] = [:]
        for item in mapRole {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex,
                  item.index(after: equals) != item.endIndex else {
                throw ValidationError("--map-role \(item): write SOURCE=TARGET, e.g. --map-role postgres=admin")
            }
            let source = String(item[..<equals])
            let target = String(item[item.index(after: equals)...])
            for name in [source, target] where name.utf8.count > 63 || name.contains("\0") {
                throw ValidationError(
                    "--map-role \(item): \(name.prefix(70)) is not a PostgreSQL role name (at most 63 bytes, no NUL)")
            }
            guard source != target else {
                throw ValidationError("--map-role \(item) maps \(source) to itself; leave it out")
            }
            guard !target.hasPrefix("pg_"), !source.hasPrefix("pg_") else {
                throw ValidationError("--map-role \(item): pg_ roles are PostgreSQL's own and are never mapped")
            }
            guard map[source] == nil else {
                throw ValidationError("--map-role names \(source) twice; give each source role one target")
            }
            map[source] = target
        }
        return map
    }
}
