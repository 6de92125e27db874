import Age
import Foundation
import Testing

/// The configuration the Kubernetes manifests ship passes `backup check-config`: the manifests cannot
/// drift from the keys the engine accepts.
@Suite struct DeployConfigTests {
    /// The `backup.conf: |` block scalar of a manifest: every following line indented `indent` or deeper
    /// (blank lines included), with that indent removed.
    static func backupConf(in file: String, indent: Int) throws -> String {
        let yaml = try String(contentsOfFile: "\(Paths.root)/deploy/\(file)", encoding: .utf8)
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "backup.conf: |" })
        let margin = String(repeating: " ", count: indent)
        return lines[(start + 1)...].prefix { $0.isEmpty || $0.hasPrefix(margin) }.map { $0.dropFirst(min(indent, $0.count)) }
            .joined(separator: "\n")
    }

    @Test(arguments: [
        ("base/configmap.yaml", "local.path = /backups", [String: String]()),
        ("s3/configmap.yaml", "destination = s3", ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example"]),
    ])
    func configMapConfigurationIsValid(_ file: String, _ expected: String, _ environment: [String: String]) async throws {
        let body = try DeployConfigTests.backupConf(in: "kubernetes/\(file)", indent: 4)
        let directory = try Paths.temporaryDirectory("deploy-config")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "secret\n".write(toFile: "\(directory)/password", atomically: true, encoding: .utf8)
        try "# public keys\n\(AgeKeys.generate().recipient)\n".write(toFile: "\(directory)/recipients", atomically: true, encoding: .utf8)
        let config = body.replacingOccurrences(of: "/var/run/secrets/backup/password", with: "\(directory)/password")
            .replacingOccurrences(of: "/etc/backup-age/recipients", with: "\(directory)/recipients")
        #expect(config.contains("[app]") && config.contains(expected))
        try config.write(toFile: "\(directory)/backup.conf", atomically: true, encoding: .utf8)
        let result = try await Shell.run(Paths.backup, ["check-config", "--config", "\(directory)/backup.conf"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("configuration OK: 1 job"), "\(result.stdout)")
    }
}

/// The configuration the OpenShift S3 template makes, with its parameters' defaults and sample values,
/// passes `backup check-config`.
@Suite struct OpenShiftS3TemplateTests {
    @Test func templateConfigurationIsValid() async throws {
        let body = try DeployConfigTests.backupConf(in: "openshift/backup-s3-template.yaml", indent: 8)
        let directory = try Paths.temporaryDirectory("template-config")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (file, value) in ["database-user": "app", "database-password": "secret", "access_key_id": "AKIAEXAMPLE", "secret_access_key": "example"] {
            try "\(value)\n".write(toFile: "\(directory)/\(file)", atomically: true, encoding: .utf8)
        }
        let parameters = ["DATABASE_SERVICE_NAME": "postgresql", "POSTGRESQL_PORT_NUM": "5432", "S3_BUCKET": "my-backups",
                          "S3_PREFIX": "backups/", "S3_REGION": "us-east-1", "S3_ENDPOINT": "", "NUM_BACKUPS": "31",
                          "TZ": "Etc/UTC", "DATABASE_NAME": "mydb", "AGE_RECIPIENTS": AgeKeys.generate().recipient]
        var config = body
            .replacingOccurrences(of: "/var/run/secrets/db/", with: "\(directory)/")
            .replacingOccurrences(of: "/var/run/secrets/s3/", with: "\(directory)/")
        for (name, value) in parameters { config = config.replacingOccurrences(of: "${\(name)}", with: value) }
        #expect(!config.contains("${"), "every parameter is one the test knows: \(config)")
        try config.write(toFile: "\(directory)/backup.conf", atomically: true, encoding: .utf8)
        let result = try await Shell.run(Paths.backup, ["check-config", "--config", "\(directory)/backup.conf"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("configuration OK: 1 job") && result.stdout.contains("s3.bucket = my-backups"), "\(result.stdout)")
        #expect(!result.stdout.contains("example\n") && result.stdout.contains("s3.secret_access_key = <redacted>"))
    }
}
