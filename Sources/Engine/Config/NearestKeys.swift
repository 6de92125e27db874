/// Suggests valid keys close to a mistyped one.
public enum NearestKeys {
    public static func find(_ key: String, among candidates: [String]) -> [String] {
        // Edit distance costs length × length: a key far longer than any real one gets no suggestion.
        guard key.utf8.count <= 100 else { return [] }
        let scored = candidates.map { ($0, distance(key, $0)) }
        let best = scored.map(\.1).min() ?? .max
        let limit = max(2, key.count / 3)
        let near = scored.filter { $0.1 == best && $0.1 <= limit }.map(\.0)
        if !near.isEmpty { return Array(near.prefix(3)) }
        // Same name under another plugin, e.g. `src.host` for a source plugin named `source1`.
        let tail = key.split(separator: ".").last.map(String.init) ?? key
        return Array(candidates.filter { $0.hasSuffix(".\(tail)") }.prefix(3))
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
