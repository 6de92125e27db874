import Engine

/// The original Backup Container's variables, for running with no config file: DATABASE_SERVICE_NAME,
/// POSTGRESQL_PORT_NUM (5432), POSTGRESQL_USER, POSTGRESQL_PASSWORD, POSTGRESQL_DATABASE, BACKUP_DIR and
/// NUM_BACKUPS (31) make one gzip job, so the engine drops into that pod unchanged. The later container's
/// BACKUP_STRATEGY=rolling with DAILY_BACKUPS, WEEKLY_BACKUPS and MONTHLY_BACKUPS selects `rolling` instead.
public enum LegacyEnvironment {
    static let mapping: [(variable: String, key: String, fallback: String?)] = [
        ("DATABASE_SERVICE_NAME", "postgres.host", nil),
        ("POSTGRESQL_PORT_NUM", "postgres.port", "5432"),
        ("POSTGRESQL_USER", "postgres.user", nil),
        ("POSTGRESQL_PASSWORD", "postgres.password", nil),
        ("POSTGRESQL_DATABASE", "postgres.database", nil),
        ("BACKUP_DIR", "local.path", nil),
        ("NUM_BACKUPS", "count.keep", "31"),
    ]

    /// A configuration equivalent to the variables; errors name the variable to set.
    public static func document(_ environment: [String: String]) throws(ConfigError) -> ConfigDocument {
        let file = "environment"
        var entries = [
            ConfigEntry(key: "source", value: "postgres", file: file, line: nil),
            ConfigEntry(key: "compressor", value: "gzip", file: file, line: nil),
            ConfigEntry(key: "destination", value: "local", file: file, line: nil),
        ]
        let strategy = environment["BACKUP_STRATEGY"].flatMap { $0.isEmpty ? nil : $0.lowercased() } ?? "count"
        switch strategy {
        case "rolling":
            entries.append(ConfigEntry(key: "retention", value: "rolling", file: "$BACKUP_STRATEGY", line: nil))
            let tiers = [
                ("DAILY_BACKUPS", "rolling.daily"), ("WEEKLY_BACKUPS", "rolling.weekly"),
                ("MONTHLY_BACKUPS", "rolling.monthly"),
            ]
            for (variable, key) in tiers {
                if let value = environment[variable], !value.isEmpty {
                    entries.append(ConfigEntry(key: key, value: value, file: "$\(variable)", line: nil))
                }
            }
        case "count", "daily":
            entries.append(ConfigEntry(key: "retention", value: "count", file: file, line: nil))
        default:
            throw ConfigError(file: file, line: nil, key: "BACKUP_STRATEGY",
                              message: "'\(strategy)' is not rolling or daily")
        }
        for (variable, key, fallback) in mapping where !(strategy == "rolling" && variable == "NUM_BACKUPS") {
            let value = environment[variable].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
            if let value {
                entries.append(ConfigEntry(key: key, value: value, file: "$\(variable)", line: nil))
            } else if variable != "POSTGRESQL_PASSWORD" {
                throw ConfigError(file: file, line: nil, key: variable,
                    message: "not set; set it (or pass --config FILE / set BACKUP_CONFIG) to configure the backup")
            }
        }
        if let password = environment["POSTGRESQL_PASSWORD_FILE"], !password.isEmpty,
           environment["POSTGRESQL_PASSWORD"] == nil {
            entries.append(ConfigEntry(key: "postgres.password_file", value: password,
                                       file: "$POSTGRESQL_PASSWORD_FILE", line: nil))
        }
        return ConfigDocument(file: file, defaults: entries, sections: [])
    }
}
