import Foundation

/// A real HTTP server on loopback (Python's http.server, in a process of its own) that records every
/// request it receives. `mode`: `ok` answers 200, `error` answers 500, `slow` answers after a minute.
package struct HTTPReceiver {
    package let directory: String
    package let port: Int
    package let pid: Int32

    static let script = """
        import http.server, json, sys, time
        mode, port_file, log = sys.argv[1], sys.argv[2], sys.argv[3]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                with open(log, 'a') as f:
                    f.write(json.dumps({'path': self.path, 'headers': dict(self.headers), 'body': body.decode()}) + '\\n')
                if mode == 'slow':
                    time.sleep(60)
                self.send_response(500 if mode == 'error' else 200)
                self.send_header('Content-Length', '0')
                self.end_headers()
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        with open(port_file + '.tmp', 'w') as f:
            f.write(str(server.server_address[1]))
        import os; os.rename(port_file + '.tmp', port_file)
        server.serve_forever()
        """

    package static func start(_ mode: String) async throws -> HTTPReceiver {
        let directory = try Paths.temporaryDirectory("receiver")
        try script.write(toFile: "\(directory)/receiver.py", atomically: true, encoding: .utf8)
        let started = try await Shell.sh(
            "python3 '\(directory)/receiver.py' \(mode) '\(directory)/port' '\(directory)/requests' >/dev/null 2>&1 & echo $!")
        guard let pid = Int32(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("the receiver did not start: \(started.stderr)")
        }
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: "\(directory)/port", encoding: .utf8), let port = Int(text) {
                return HTTPReceiver(directory: directory, port: port, pid: pid)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(pid, SIGKILL)
        throw TestFailure("the receiver wrote no port within 10 s")
    }

    package var url: String { "http://127.0.0.1:\(port)/hook" }

    /// Every request received so far: path, headers, and the body parsed as JSON.
    package func requests() throws -> [(path: String, headers: [String: String], body: [String: Any])] {
        guard let text = try? String(contentsOfFile: "\(directory)/requests", encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let body = try JSONSerialization.jsonObject(with: Data((record["body"] as! String).utf8)) as! [String: Any]
            return (record["path"] as! String, record["headers"] as! [String: String], body)
        }
    }

    package func stop() {
        kill(pid, SIGKILL)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
