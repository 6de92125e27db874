import Foundation
import Testing

/// The configuration the Kubernetes manifests ship passes `backup check-config`: the manifests cannot
/// drift from the keys the engine accepts.
@Suite struct DeployConfigTests {
    @Test func configMapConfigurationIsValid() async throws {
        let yaml = try String(contentsOfFile: "\(Paths.root)/deploy/kubernetes/base/configmap.yaml", encoding: .utf8)
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "backup.conf: |" })
        // The block scalar: every following line indented deeper than its key (blank lines included).
        let body = lines[(start + 1)...].prefix { $0.isEmpty || $0.hasPrefix("    ") }.map { $0.dropFirst(min(4, $0.count)) }
        let directory = try Paths.temporaryDirectory("deploy-config")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "secret\n".write(toFile: "\(directory)/password", atomically: true, encoding: .utf8)
        let config = body.joined(separator: "\n").replacingOccurrences(of: "/var/run/secrets/backup/password", with: "\(directory)/password")
        #expect(config.contains("[app]") && config.contains("local.path = /backups"))
        try config.write(toFile: "\(directory)/backup.conf", atomically: true, encoding: .utf8)
        let result = try await Shell.run(Paths.backup, ["check-config", "--config", "\(directory)/backup.conf"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("configuration OK: 1 job"), "\(result.stdout)")
    }
}
