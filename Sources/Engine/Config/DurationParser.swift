/// Parses durations written as `90`, `90s`, `10m`, `24h`, `7d` or combinations such as `1h30m`.
public enum DurationParser {
    /// The number of seconds `text` stands for, or nil when it is not a duration.
    public static func seconds(_ text: String) -> Double? {
        // Ten years bounds every timer and timeout; beyond that a value is a typo, and would overflow them.
        guard let seconds = unbounded(text), seconds <= 10 * 366 * 86_400 else { return nil }
        return seconds
    }

    private static func unbounded(_ text: String) -> Double? {
        let text = text.trimmingWhitespace()
        if text.isEmpty { return nil }
        // `Double` also reads "inf" and "infinity", which no timer or timeout can use.
        if let plain = Double(text), plain.isFinite, plain >= 0 { return plain }
        var total = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: return nil
            }
            guard let value = Double(number) else { return nil }
            total += value * unit
            number = ""
        }
        return number.isEmpty ? total : nil
    }
}
