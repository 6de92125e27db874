import Foundation
import Synchronization

/// One dump's stored bytes written to several uploads at once (`destination = a, b`).
///
/// Every chunk goes to every upload still alive, concurrently; the next chunk waits for the slowest, so
/// memory stays bounded by the stream's chunks in flight whatever the number of destinations. An upload
/// that fails is aborted and dropped, its failure kept, while the others go on: one full volume does not
/// cost the off-site copy. Only when no upload is left does `write` or `commit` throw: with one
/// destination, that upload's own error; with several, one naming each destination and why.
final class FanOutUpload: Upload {
    /// One destination's upload. `@unchecked Sendable`: an upload is used by one task at a time, since
    /// each step waits for every upload before the next begins.
    private final class Target: @unchecked Sendable {
        let name: String
        let upload: any Upload
        var failed = false

        init(name: String, upload: any Upload) {
            self.name = name
            self.upload = upload
        }
    }

    private let targets: [Target]
    /// Told the name of each destination that fails (to stop renewing its lock).
    private let onFailure: (@Sendable (String) -> Void)?
    /// The uploads that failed so far, in the order they failed.
    private(set) var failures: [DestinationFailure] = []

    init(_ uploads: [(name: String, upload: any Upload)], onFailure: (@Sendable (String) -> Void)? = nil) {
        targets = uploads.map { Target(name: $0.name, upload: $0.upload) }
        self.onFailure = onFailure
    }

    private var alive: [Target] { targets.filter { !$0.failed } }

    func write(_ bytes: [UInt8]) async throws {
        let alive = alive
        if alive.count == 1 {
            // One destination: no task per chunk.
            do {
                try await alive[0].upload.write(bytes)
            } catch {
                try await fail(alive[0], error)
            }
        } else {
            let results = await Self.each(alive, { try await $0.upload.write(bytes) })
            for (target, result) in results {
                if case .failure(let error) = result { try await fail(target, error) }
            }
        }
        try checkAlive()
    }

    /// Publishes every upload still alive; returns each destination's stored object, in the configured
    /// order. Throws only when none published.
    func commitAll(sidecars: [(name: String, bytes: [UInt8])]) async throws -> [(name: String, object: StoredObject)] {
        var published: [(name: String, object: StoredObject)] = []
        let results = await Self.each(alive, { try await $0.upload.commit(sidecars: sidecars) })
        for (target, result) in results {
            switch result {
            case .success(let object): published.append((target.name, object))
            case .failure(let error): try await fail(target, error)
            }
        }
        try checkAlive()
        return published
    }

    func commit(sidecars: [(name: String, bytes: [UInt8])]) async throws -> StoredObject {
        try await commitAll(sidecars: sidecars)[0].object
    }

    func abort() async {
        // Those that failed were aborted then.
        _ = await Self.each(alive, { await $0.upload.abort() })
    }

    /// Drops `target` for `error`; a signal (cancellation) is not a destination's failure and stops the
    /// whole stream instead, leaving every upload for `abort`.
    private func fail(_ target: Target, _ error: any Error) async throws {
        if error is CancellationError || Task.isCancelled { throw error }
        guard !target.failed else { return }
        target.failed = true
        failures.append(DestinationFailure(destination: target.name, error: error))
        onFailure?(target.name)
        await target.upload.abort()
    }

    /// Throws when no upload is left: the only destination's own error, or every destination's.
    private func checkAlive() throws {
        guard alive.isEmpty else { return }
        throw Self.allFailed(failures)
    }

    /// The error of a run that no destination got: with one destination its own error, unchanged.
    static func allFailed(_ failures: [DestinationFailure]) -> any Error {
        if failures.count == 1 { return failures[0].error }
        let code = (failures.first?.error as? BackupError)?.code ?? .destination
        let each = failures.map(\.description).joined(separator: "; ")
        return BackupError(code, "no destination stored the backup: " + each)
    }

    /// Runs `body` on every target at once; returns each target's result, in the targets' order.
    /// Cancellation reaches every body through the group.
    private static func each<T: Sendable>(_ targets: [Target], _ body: @escaping @Sendable (Target) async throws -> T)
        async -> [(Target, Result<T, any Error>)]
    {
        let results = await withTaskGroup(of: (Int, Result<T, any Error>).self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask {
                    do {
                        return (index, .success(try await body(target)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [Int: Result<T, any Error>] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }
        return targets.indices.compactMap { index in results[index].map { (targets[index], $0) } }
    }
}
