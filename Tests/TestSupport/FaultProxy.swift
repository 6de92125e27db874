import Foundation

/// `fault_proxy.py` on a free loopback port in front of the test run's moto_server: forwards requests,
/// or fails them as `plan` says (500, 503 SlowDown, a reset mid-request or mid-answer, a stall, a slow
/// link). With `tls`, it speaks TLS with a self-signed certificate for 127.0.0.1 (`certificate`).
package final class FaultProxy: Sendable {
    // Sendable: every stored property is an immutable value.
    package let directory: String
    package let port: Int
    package let pid: Int32
    package let tls: Bool

    package var endpoint: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }
    package var planFile: String { "\(directory)/plan.json" }
    /// The PEM certificate the proxy presents with `tls`, which is also its own CA.
    package var certificate: String { "\(directory)/cert.pem" }

    package init(tls: Bool = false) async throws {
        let moto = try await MotoServer.shared
        directory = try Paths.temporaryDirectory("proxy")
        // Who started it: scripts/test leaves alone the proxies of a test run still going beside it.
        try "\(getpid())".write(toFile: "\(directory)/owner", atomically: true, encoding: .utf8)
        self.tls = tls
        try "[]".write(toFile: "\(directory)/plan.json", atomically: true, encoding: .utf8)
        let script = "\(Paths.root)/Tests/TestSupport/fault_proxy.py"
        var arguments = ""
        if tls {
            let made = try await Shell.sh("""
                openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \\
                    -keyout '\(directory)/key.pem' -out '\(directory)/cert.pem'
                """)
            guard made.status == 0 else { throw TestFailure("openssl could not make a certificate: \(made.stderr)") }
            arguments = "'\(directory)/cert.pem' '\(directory)/key.pem'"
        }
        let started = try await Shell.sh("""
            setsid python3 '\(script)' \(moto.port) '\(directory)/plan.json' \(arguments) > '\(directory)/port' 2> '\(directory)/log' < /dev/null & echo $! > '\(directory)/pid'; cat '\(directory)/pid'
            for i in $(seq 1 100); do [ -s '\(directory)/port' ] && exit 0; sleep 0.1; done; exit 1
            """)
        guard started.status == 0, let pid = Int32(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
              let port = Int(try String(contentsOfFile: "\(directory)/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw TestFailure("the fault proxy did not start: \(started.stderr)") }
        self.pid = pid
        self.port = port
    }

    /// Replaces the plan: rules such as `["method": "PUT", "query": "partNumber", "fault": "503", "times": 2]`.
    package func plan(_ rules: [[String: Any]]) throws {
        let data = try JSONSerialization.data(withJSONObject: rules)
        try data.write(to: URL(fileURLWithPath: planFile), options: .atomic)
    }

    /// What the proxy did, one line per request (`PUT /bucket/key?partNumber=1&… 503`).
    package var log: String { (try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? "" }

    package func stop() {
        kill(pid, SIGKILL)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
