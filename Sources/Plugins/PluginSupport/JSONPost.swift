import AsyncHTTPClient
import Engine
import Foundation
import NIOCore

/// POSTs a JSON body with AsyncHTTPClient; shared by the webhook, slack and teams notifiers.
package enum JSONPost {
    /// A backstop only: the engine cancels a notifier after `notify.timeout`, and the client honours that.
    private static let ceiling: TimeAmount = .minutes(5)

    /// Sends `body` to `url`; throws unless the answer is 2xx. `label` names the receiver in errors without
    /// the URL's path or query, which for chat webhooks are the secret.
    package static func send(_ body: [String: Any], to url: String, headers: [(String, String)] = [], label: String) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "backup")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        request.body = .bytes(ByteBuffer(bytes: data))
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: ceiling)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw NotifierError("\(label) (\(redacted(url))) is unreachable: \(error)")
        }
        _ = try? await response.body.collect(upTo: 64 << 10)
        guard (200..<300).contains(response.status.code) else {
            throw NotifierError("\(label) (\(redacted(url))) answered \(response.status.code) \(response.status.reasonPhrase)")
        }
    }

    /// `https://hooks.example.com/…`: scheme and host, never the path that carries a webhook's key.
    package static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return "an invalid URL"
        }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/…"
    }

    /// A URL setting that AsyncHTTPClient can send to: http or https with a host.
    package static func check(_ url: String, key: String) throws -> String {
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
              !(components.host ?? "").isEmpty
        else {
            throw SettingError(key: key, message: "'\(redacted(url))' is not an http:// or https:// URL")
        }
        return url
    }
}

package struct NotifierError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

extension JobEvent {
    /// One line for people: what happened, how big, how long, and the error.
    package var summaryLine: String {
        let what = database.map { "\(job) (database \($0))" } ?? job
        switch status {
        case .success:
            let size = ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary)
            let verified = verification == "passed" ? ", verified" : ""
            return "Backup of \(what) succeeded: \(size) in \(String(format: "%.1f", durationSeconds)) s\(verified)\(file.map { ", \($0)" } ?? "")"
        case .failure:
            return "Backup of \(what) FAILED after \(String(format: "%.1f", durationSeconds)) s: \(error ?? "unknown error")"
        case .partial:
            let stored = destinations.filter { $0.status == .success }.map(\.name).joined(separator: ", ")
            return "Backup of \(what) PARTIAL after \(String(format: "%.1f", durationSeconds)) s: stored at \(stored) only: \(error ?? "unknown error")"
        }
    }
}
