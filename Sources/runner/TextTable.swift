/// Aligned plain-text tables for people: columns two spaces apart, the last column not padded; the columns
/// in `right` (numbers) aligned to the right.
enum TextTable {
    static func lines(_ rows: [[String]], indent: String = "", right: Set<Int> = []) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            indent + row.enumerated().map { index, cell in
                if right.contains(index) { return String(repeating: " ", count: widths[index] - cell.count) + cell }
                if index == row.count - 1 { return cell }
                return cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}
