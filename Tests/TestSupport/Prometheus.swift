import Foundation

/// A real Prometheus (Debian's package, unpacked by `scripts/deb-tool`, never installed as a service) on a
/// free loopback port for one test, scraping `targets` (scrape job name → host:port, with honor_labels)
/// every second and evaluating `rules` (a rules file's text) every second. `end()` stops it.
package struct Prometheus {
    package let url: String
    private let process: Background
    private let directory: String

    package static func start(targets: [String: String], rules: String) async throws -> Prometheus {
        let located = try await Shell.run("\(Paths.root)/scripts/deb-tool", ["prometheus", "prometheus"])
        guard located.status == 0 else { throw TestFailure("deb-tool prometheus failed: \(located.stderr)") }
        let program = located.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let directory = try Paths.temporaryDirectory("prometheus")
        try rules.write(toFile: "\(directory)/rules.yaml", atomically: true, encoding: .utf8)
        var config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - \(directory)/rules.yaml
            scrape_configs:

            """
        for (job, target) in targets.sorted(by: { $0.key < $1.key }) {
            config += """
                  - job_name: \(job)
                    honor_labels: true
                    static_configs:
                      - targets: ['\(target)']

                """
        }
        try config.write(toFile: "\(directory)/prometheus.yml", atomically: true, encoding: .utf8)
        let port = try FreePort.closed()
        let process = try await Background.start(
            "\(Shell.quote(program)) --config.file=\(Shell.quote("\(directory)/prometheus.yml"))"
                + " --storage.tsdb.path=\(Shell.quote("\(directory)/data")) --web.listen-address=127.0.0.1:\(port)"
                + " > \(Shell.quote("\(directory)/log")) 2>&1",
            pidFile: "\(directory)/pid")
        let prometheus = Prometheus(url: "http://127.0.0.1:\(port)", process: process, directory: directory)
        try await waitUntil("Prometheus on port \(port)") {
            try await Shell.run("/usr/bin/curl", ["-sf", "\(prometheus.url)/-/ready"]).status == 0
        }
        return prometheus
    }

    /// The series an instant query returns, each as its labels.
    package func query(_ expression: String) async throws -> [[String: String]] {
        let result = try await Shell.run("/usr/bin/curl", ["-sf", "\(url)/api/v1/query", "--data-urlencode", "query=\(expression)"])
        guard result.status == 0,
              let answer = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let data = answer["data"] as? [String: Any], let series = data["result"] as? [[String: Any]]
        else { throw TestFailure("query \(expression) failed: \(result.stdout) \(result.stderr)") }
        return series.map { ($0["metric"] as? [String: String]) ?? [:] }
    }

    /// The log, for a failure's message.
    package var log: String { (try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? "" }

    package func end() {
        process.end()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
