import Age
import Foundation
import Testing
import TestSupport

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

/// The image carries pg_dump 14 to 18: the Containerfile (which cannot be built here: no registry for its
/// base images, no route to PostgreSQL's apt repository) installs each major's client package from a
/// package source given as a build argument, and its build fails unless each major's pg_dump runs.
@Suite struct ContainerfileTests {
    static func text() throws -> String { try String(contentsOfFile: "\(Paths.root)/Containerfile", encoding: .utf8) }

    /// The default of `ARG name="…"`.
    static func argument(_ name: String, in text: String) throws -> String {
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("ARG \(name)=") })
        return String(line.dropFirst("ARG \(name)=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    @Test func theRuntimeImageInstallsAndChecksEveryMajorsClient() async throws {
        let text = try Self.text()
        let stages = text.components(separatedBy: " AS runtime\n")
        try #require(stages.count == 2, "one runtime stage")
        // The clients stage installs them; the runtime stage takes their programs and their libraries.
        let runtime = String(try #require(stages[0].components(separatedBy: " AS clients\n").last))
        #expect(stages[1].contains("COPY --from=clients /clients/ /")
                && stages[1].contains("$(cat /usr/share/doc/backup/client-packages)")
                && stages[1].contains("for tool in /usr/lib/postgresql/*/bin/pg_dump; do \"$tool\" --version; done"))
        #expect(try Self.argument("PG_MAJORS", in: runtime) == "14 15 16 17 18")
        #expect(try Self.argument("PG_APT_SOURCE", in: runtime).contains("apt.postgresql.org"))
        #expect(runtime.contains("echo \"$PG_APT_SOURCE\" > /etc/apt/sources.list.d/pgdg.list"))
        // The package list the RUN step builds from PG_MAJORS, evaluated by sh as the build would.
        let loop = try #require(runtime.split(separator: "\n").first { $0.contains("clients=\"\" && for major in $PG_MAJORS") })
        var line = loop.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix("&&") { line.removeFirst(2) }
        if line.hasSuffix("\\") { line.removeLast() }
        let script = line.replacingOccurrences(of: " && ", with: "; ") + "; echo $clients"
        let packages = try await Shell.run("/usr/bin/env", ["PG_MAJORS=\(try Self.argument("PG_MAJORS", in: runtime))", "/bin/sh", "-c", script])
        #expect(packages.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                == (14...18).map { "postgresql-client-\($0)" }, "\(packages.stdout) \(packages.stderr)")
        #expect(runtime.contains("apt-get install -q -y --no-install-recommends $clients"))
        #expect(!runtime.contains(" postgresql-client "), "not Debian's single postgresql-client (pg_dump 15 only)")
    }
}

/// The alert rules (deploy/prometheus/backup-alerts.yaml): Prometheus's own promtool checks them and runs
/// their unit tests (backup-alerts.test.yaml: each alert fires, and stays quiet, where it should), and the
/// PrometheusRule manifest holds the same rules word for word.
@Suite struct AlertRulesTests {
    static let directory = "\(Paths.root)/deploy/prometheus"

    static func promtool() async throws -> String {
        let located = try await Shell.run("\(Paths.root)/scripts/deb-tool", ["prometheus", "promtool"])
        guard located.status == 0 else { throw TestFailure("deb-tool prometheus promtool failed: \(located.stderr)") }
        return located.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func promtoolChecksAndTestsTheRules() async throws {
        let promtool = try await Self.promtool()
        let checked = try await Shell.run(promtool, ["check", "rules", "\(Self.directory)/backup-alerts.yaml"])
        #expect(checked.status == 0 && checked.stdout.contains("SUCCESS: 7 rules found"), "\(checked.stdout) \(checked.stderr)")
        let tested = try await Shell.run("/bin/sh", ["-c", "cd \(Shell.quote(Self.directory)) && exec \(Shell.quote(promtool)) test rules backup-alerts.test.yaml"])
        #expect(tested.status == 0 && tested.stdout.contains("SUCCESS"), "\(tested.stdout) \(tested.stderr)")
    }

    @Test func thePrometheusRuleHoldsTheSameRules() throws {
        let rules = try String(contentsOfFile: "\(Self.directory)/backup-alerts.yaml", encoding: .utf8)
        let manifest = try String(contentsOfFile: "\(Paths.root)/deploy/kubernetes/monitoring/prometheusrule.yaml", encoding: .utf8)
        let groups = String(rules[try #require(rules.range(of: "groups:\n")).lowerBound...])
        let spec = String(manifest[try #require(manifest.range(of: "\nspec:\n")).upperBound...])
        let outdented = spec.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("  ") ? String($0.dropFirst(2)) : String($0) }.joined(separator: "\n")
        #expect(outdented == groups)
        #expect(manifest.contains("kind: PrometheusRule"))
    }
}
