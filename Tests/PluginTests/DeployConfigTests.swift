import Foundation
import Testing

/// The configuration the Kubernetes manifests ship passes `backup check-config`: the manifests cannot
/// drift from the keys the engine accepts.
@Suite struct DeployConfigTests {
    @Test(arguments: [
        ("base/configmap.yaml", "local.path = /backups", [String: String]()),
        ("s3/configmap.yaml", "destination = s3", ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example"]),
    ])
    func configMapConfigurationIsValid(_ file: String, _ expected: String, _ environment: [String: String]) async throws {
        let yaml = try String(contentsOfFile: "\(Paths.root)/deploy/kubernetes/\(file)", encoding: .utf8)
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "backup.conf: |" })
        // The block scalar: every following line indented deeper than its key (blank lines included).
        let body = lines[(start + 1)...].prefix { $0.isEmpty || $0.hasPrefix("    ") }.map { $0.dropFirst(min(4, $0.count)) }
        let directory = try Paths.temporaryDirectory("deploy-config")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "secret\n".write(toFile: "\(directory)/password", atomically: true, encoding: .utf8)
        let config = body.joined(separator: "\n").replacingOccurrences(of: "/var/run/secrets/backup/password", with: "\(directory)/password")
        #expect(config.contains("[app]") && config.contains(expected))
        try config.write(toFile: "\(directory)/backup.conf", atomically: true, encoding: .utf8)
        let result = try await Shell.run(Paths.backup, ["check-config", "--config", "\(directory)/backup.conf"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("configuration OK: 1 job"), "\(result.stdout)")
    }
}
