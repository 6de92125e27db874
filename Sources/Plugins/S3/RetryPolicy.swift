import Engine

/// Retries with exponential backoff and jitter (a random wait between a quarter and all of the backoff),
/// bounded in count, each wait at most `maxDelay`.
struct RetryPolicy: Sendable {
    var attempts: Int
    var baseDelay: Duration = .milliseconds(200)
    var maxDelay: Duration = .seconds(20)

    func run<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch let failure as S3Failure where failure.isTransient && attempt < attempts {
                try await Task.sleep(for: delay(after: attempt))
            }
        }
    }

    func delay(after attempt: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(attempt - 1, 20)))
        let millis = Int64(ceiling.inSeconds * 1000)
        return .milliseconds(Int64.random(in: (millis / 4)...max(millis / 4, millis)))
    }
}
