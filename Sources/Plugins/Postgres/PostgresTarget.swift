import Foundation

/// Connection parameters for libpq and pg_dump. `description` leaves the password out.
public struct PostgresTarget: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var connectTimeout: Int

    public var description: String { "\(user)@\(host):\(port)/\(database)" }

    /// What `--dbname` gets for `database`: a connection string naming only the database, its value quoted.
    ///
    /// pg_dump, psql and pg_restore read a `--dbname` containing `=` as a connection string, so a name
    /// given as is could name another host (`dbname=app host=elsewhere`) and send it the password. Quoted
    /// in a `dbname='…'` string it is only ever a name, whatever it contains.
    ///
    /// It also turns on TCP keepalives, so a server or network that vanished without closing the
    /// connection is noticed in about a minute and a half rather than hours later.
    static func dbnameArgument(_ database: String) -> String {
        let escaped = database.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return "dbname='\(escaped)' " + keepalives.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    static let keepalives = [
        ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "6"),
    ]
}
