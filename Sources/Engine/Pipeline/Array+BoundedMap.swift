extension Array where Element: Sendable {
    /// `transform` of every element, at most `limit` running at once, the results in the elements' order.
    /// Throws the first error a transform throws (the others are cancelled), or when cancelled.
    func boundedMap<T: Sendable>(
        limit: Int, _ transform: @escaping @Sendable (Element) async throws -> T
    ) async throws -> [T] {
        var results: [Int: T] = [:]
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var next = 0
            func start() {
                guard next < count else { return }
                let index = next
                let element = self[index]
                next += 1
                group.addTask { (index, try await transform(element)) }
            }
            for _ in 0..<Swift.max(1, limit) { start() }
            while let (index, result) = try await group.next() {
                results[index] = result
                start()
            }
        }
        return indices.compactMap { results[$0] }
    }
}
