import Engine
import Foundation

/// `postgres`: dumps one database with pg_dump, after checking it with a libpq connection.
public struct PostgresSourceFactory: SourceFactory {
    public init() {}
    public let name = "postgres"
    public let summary = "a PostgreSQL database, dumped with pg_dump"
    public let keys = [
        KeySpec("host", .string, default: "localhost", summary: "server host name or address (or a socket directory)"),
        KeySpec("port", .integer(1...65535), default: "5432", summary: "server port"),
        KeySpec("user", .string, required: true, summary: "role that runs the dump"),
        KeySpec("password", .string, secret: true, summary: "that role's password (prefer postgres.password_file)"),
        KeySpec("database", .string, required: true,
                summary: "database to back up, or * for every database of the server (each its own backup)"),
        KeySpec("include", .string,
                summary: "with database = *: only the databases matching one of these globs (comma-separated)"),
        KeySpec("exclude", .string,
                summary: "with database = *: not the databases matching one of these globs (comma-separated)"),
        KeySpec("role_passwords", .choice(["exclude", "include"]), default: "exclude",
                summary: "with database = *: record each role's password hash (needs a superuser; encrypt them)"),
        KeySpec("format", .choice(["plain", "custom"]), default: "plain",
                summary: "plain SQL (restore with psql) or custom (restore with pg_restore)"),
        KeySpec("compress", .string, default: "0",
                summary: "custom format: pg_dump's own compression of each table's data, as pg_dump --compress "
                    + "takes it (e.g. zstd:3 from pg_dump 16, gzip:6, or a gzip level 0-9); 0 leaves it to the "
                    + "compressor stage. With compressor = none a backup restores in parallel in place on a volume, "
                    + "and from a bucket or through age its scratch copy is only as large as the stored file"),
        KeySpec("connect_timeout", .duration, default: "10s", summary: "give up connecting after this long"),
        KeySpec("pg_dump", .string,
                summary: "path of the pg_dump to use (default: the newest one found that fits the server)"),
        KeySpec("row_counts", .choice(["exact", "none"]), default: "exact",
                summary: "count every table's rows in the dump's snapshot, for `backup verify`"),
        KeySpec("stall_timeout", .duration, default: "5m",
                summary: "stop pg_dump when it has received nothing from the server for this long (a hung server)"),
        KeySpec("verify_host", .string, aliases: ["verify.host"],
                summary: "server for verify's scratch restores (default: the job's own)"),
        KeySpec("verify_port", .integer(1...65535), aliases: ["verify.port"],
                summary: "that server's port (default: the job's)"),
        KeySpec("verify_user", .string, aliases: ["verify.user"],
                summary: "role on that server, needs CREATEDB (default: the job's)"),
        KeySpec("verify_password", .string, secret: true, aliases: ["verify.password"],
                summary: "that role's password (prefer postgres.verify_password_file)"),
    ]

    public func make(_ settings: PluginSettings) throws -> any Source {
        let timeout = Int(try settings.seconds(required: "connect_timeout").rounded(.up))
        guard timeout >= 1 else { throw SettingError(key: "connect_timeout", message: "must be at least 1s") }
        let stall = try settings.seconds(required: "stall_timeout")
        guard stall >= 1 else { throw SettingError(key: "stall_timeout", message: "must be at least 1s") }
        var source = PostgresSource(
            target: PostgresTarget(
                host: try settings.string(required: "host"), port: try settings.integer(required: "port"),
                user: try settings.string(required: "user"), password: settings.string("password"),
                database: try settings.string(required: "database"), connectTimeout: timeout),
            format: try settings.string(required: "format"),
            pgDumpOverride: settings.string("pg_dump"),
            countRows: settings.string("row_counts") != "none")
        let compress = settings.string("compress") ?? "0"
        let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == ":" || c == "=" || c == ",") }
        guard compress.allSatisfy(allowed), !compress.isEmpty, compress.count <= 40 else {
            throw SettingError(key: "compress",
                               message: "must be what pg_dump --compress takes, e.g. zstd:3, gzip:6 or 0")
        }
        if compress != "0" && source.format != "custom" {
            throw SettingError(key: "compress", message: "applies to postgres.format = custom; a plain dump is "
                + "compressed by the compressor stage")
        }
        source.compress = compress
        source.stallTimeout = .milliseconds(Int64(stall * 1000))
        source.stallTimeoutText = try settings.string(required: "stall_timeout")
        for key in ["host", "port", "user", "password"] {
            source.verifyServer[key] = settings.string("verify_" + key)
        }
        let patterns = { (key: String) in
            (settings.string(key) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        guard source.target.database == "*" else {
            for key in ["include", "exclude"] where settings.string(key) != nil {
                throw SettingError(key: key, message: "applies only to a whole-server job (postgres.database = *)")
            }
            if settings.string("role_passwords") == "include" {
                throw SettingError(key: "role_passwords", message: "applies only to a whole-server job"
                    + " (postgres.database = *); a database's backup records its roles without passwords")
            }
            return source
        }
        // The server is asked which databases it has through the one every cluster is made with.
        source.target.database = "postgres"
        var server = PostgresServerSource(base: source, include: patterns("include"), exclude: patterns("exclude"))
        server.rolePasswords = settings.string("role_passwords") == "include"
        return server
    }

    public func defaultJobName(_ settings: PluginSettings) -> String? {
        settings.string("database") == "*" ? "server" : settings.string("database")
    }

    /// Every pg_dump found (PATH, /usr/lib/postgresql/<major>/bin): a server is backed up by one at least
    /// as new as it, so the newest decides which servers this pod can back up.
    public func tools() async -> [String] {
        var found: [String] = []
        for path in PgDumpLocator.candidates() {
            if let tool = await PgDumpLocator.inspect(path) { found.append("pg_dump \(tool.version) at \(tool.path)") }
        }
        guard found.isEmpty else { return found }
        return ["no pg_dump found: install postgresql-client-<major> for each server major, or set postgres.pg_dump"]
    }
}
