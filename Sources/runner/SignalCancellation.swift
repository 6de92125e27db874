import Dispatch
import Foundation
import Synchronization

/// Turns SIGTERM and SIGINT into task cancellation, so every scope (pg_dump, partial files) unwinds cleanly.
enum SignalCancellation {
    /// Runs `body`; on SIGTERM or SIGINT cancels it, waits for it to unwind, and returns the signal.
    static func run(_ body: @escaping @Sendable () async -> Void) async -> Int32? {
        let received = SignalBox()
        let task = Task { await body() }
        let sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                received.set(number)
                task.cancel()
            }
            source.resume()
            return source
        }
        await task.value
        sources.forEach { $0.cancel() }
        return received.value
    }
}

extension SignalCancellation {
    /// Runs `body` cancellably; if a signal cancelled it, throws ``Interrupted`` once it has unwound.
    static func throwing<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let result = ResultBox<T>()
        let signal = await run {
            do { result.set(.success(try await body())) } catch { result.set(.failure(error)) }
        }
        if let signal { throw Interrupted(signal: signal) }
        return try result.value!.get()
    }
}

private final class ResultBox<T: Sendable>: Sendable {
    private let storage = Mutex<Result<T, any Error>?>(nil)
    func set(_ value: Result<T, any Error>) { storage.withLock { $0 = value } }
    var value: Result<T, any Error>? { storage.withLock { $0 } }
}

/// The signal that arrived, written from a dispatch queue and read after the task ended.
private final class SignalBox: Sendable {
    private let storage = Mutex<Int32?>(nil)
    func set(_ number: Int32) { storage.withLock { $0 = number } }
    var value: Int32? { storage.withLock { $0 } }
}
