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
    package static func send(_ body: [String: Any], to url: String, headers: [(String, String)] = [],
                             label: String) async throws {
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
            let status = "\(response.status.code) \(response.status.reasonPhrase)"
            throw NotifierError("\(label) (\(redacted(url))) answered \(status)")
        }
    }

    /// `https://hooks.example.com/…`: scheme and host, never the path that carries a webhook's key.
    package static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              let host = components.host else {
            return "an invalid URL"
        }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/…"
    }

    /// A URL setting that AsyncHTTPClient can send to: http or https with a host.
    package static func check(_ url: String, key: String) throws -> String {
        guard let components = URLComponents(string: url),
              ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
              !(components.host ?? "").isEmpty
        else {
            throw SettingError(key: key, message: "'\(redacted(url))' is not an http:// or https:// URL")
        }
        return url
    }
}
