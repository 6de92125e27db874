/// Parses sizes written as `1048576`, `512KiB`, `16MiB`, `5GiB`, `1TiB` (powers of 1024) or `8MB`, `5GB`
/// (powers of 1000); `K`, `M`, `G`, `T` alone are powers of 1024, as Kubernetes' `Ki` and `Mi` are.
public enum SizeParser {
    private static let units: [(String, Int64)] = [
        ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40),
        ("ki", 1 << 10), ("mi", 1 << 20), ("gi", 1 << 30), ("ti", 1 << 40),
        ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("tb", 1_000_000_000_000),
        ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40), ("b", 1),
    ]

    /// The number of bytes `text` stands for, or nil when it is not a size (or above 1 PiB).
    public static func bytes(_ text: String) -> Int64? {
        let text = text.trimmingWhitespace().lowercased()
        let digits = text.prefix { $0.isNumber || $0 == "." }
        let unitText = text.dropFirst(digits.count).trimmingWhitespace()
        guard let number = Double(digits), number >= 0 else { return nil }
        let unit = unitText.isEmpty ? 1 : units.first { $0.0 == unitText }?.1
        guard let unit, number * Double(unit) <= Double(Int64(1) << 50) else { return nil }
        return Int64((number * Double(unit)).rounded())
    }

    /// `16 MiB`, `5 GiB`, `1000 B`: the largest binary unit that divides `bytes`.
    public static func text(_ bytes: Int64) -> String {
        for (name, unit) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= unit && bytes % unit == 0 {
            return "\(bytes / unit) \(name)"
        }
        return "\(bytes) B"
    }
}
