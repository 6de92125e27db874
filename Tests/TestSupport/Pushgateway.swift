import Foundation

/// A Prometheus Pushgateway (Debian's prometheus-pushgateway, unpacked by `scripts/deb-tool`, never
/// installed as a service) on a free loopback port, for one test; `end()` stops it.
package struct Pushgateway {
    package let url: String
    private let process: Background
    private let directory: String

    package static func start() async throws -> Pushgateway {
        let located = try await Shell.run("\(Paths.root)/scripts/deb-tool", ["prometheus-pushgateway", "prometheus-pushgateway"])
        guard located.status == 0 else { throw TestFailure("deb-tool prometheus-pushgateway failed: \(located.stderr)") }
        let program = located.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let directory = try Paths.temporaryDirectory("pushgateway")
        let port = try FreePort.closed()
        let process = try await Background.start(
            "\(Shell.quote(program)) --web.listen-address=127.0.0.1:\(port)"
                + " --persistence.file=\(Shell.quote("\(directory)/data")) > \(Shell.quote("\(directory)/log")) 2>&1",
            pidFile: "\(directory)/pid")
        let gateway = Pushgateway(url: "http://127.0.0.1:\(port)", process: process, directory: directory)
        try await waitUntil("the Pushgateway on port \(port)") { try await gateway.get("/-/ready").status == 0 }
        return gateway
    }

    /// `curl` of `path`: exit status 0 only for a 2xx answer; the body.
    package func get(_ path: String) async throws -> (status: Int32, body: String) {
        let result = try await Shell.run("/usr/bin/curl", ["-sf", url + path])
        return (result.status, result.stdout)
    }

    /// The samples the gateway serves, by name with labels as written (`name{instance="",job="x"}`).
    package func samples() async throws -> [String: Double] {
        var values: [String: Double] = [:]
        for line in try await get("/metrics").body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }

    package func end() {
        process.end()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
