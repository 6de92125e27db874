/// One stored `name=value` setting, split the way `pg_dumpall` splits it so that `ALTER … SET` gets back
/// exactly what the server stored.
///
/// The server keeps list-valued settings whose items are quoted (`search_path`, `temp_tablespaces`…) in
/// their flattened form, `"$user", public, extra`. Written back as one literal, that becomes a single
/// item; so those are split into their items, each given as its own literal. Every other value is one
/// literal as it stands.
struct StoredSetting: Equatable {
    var name: String
    var values: [String]

    /// The settings PostgreSQL marks `GUC_LIST_QUOTE` (the list `pg_dumpall` also keeps).
    static let quotedLists: Set<String> = [
        "local_preload_libraries", "search_path", "session_preload_libraries", "shared_preload_libraries",
        "temp_tablespaces", "unix_socket_directories",
    ]

    /// Nil for an item without `=` (the server never stores one).
    init?(_ item: String) {
        guard let equals = item.firstIndex(of: "=") else { return nil }
        name = String(item[..<equals])
        let value = String(item[item.index(after: equals)...])
        if Self.quotedLists.contains(name.lowercased()), let items = Self.splitList(value) {
            values = items
        } else {
            values = [value]
        }
    }

    /// The items of a flattened list: separated by commas and optional blanks, each either bare or in
    /// double quotes with `""` standing for one quote. Nil when the text is not such a list.
    static func splitList(_ text: String) -> [String]? {
        let bytes = Array(text.utf8)
        var items: [String] = []
        var i = 0
        func skipBlanks() { while i < bytes.count, isBlank(bytes[i]) { i += 1 } }
        skipBlanks()
        if i == bytes.count { return [] }
        while true {
            var item: [UInt8] = []
            if bytes[i] == UInt8(ascii: "\"") {
                i += 1
                while true {
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: "\"") {
                        if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") {
                            item.append(bytes[i])
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    item.append(bytes[i])
                    i += 1
                }
            } else {
                while i < bytes.count, bytes[i] != UInt8(ascii: ","), !isBlank(bytes[i]) {
                    item.append(bytes[i])
                    i += 1
                }
                if item.isEmpty { return nil }
            }
            items.append(String(decoding: item, as: UTF8.self))
            skipBlanks()
            if i == bytes.count { return items }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
            skipBlanks()
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// `SET name TO 'v1', 'v2'` as a `format()` template and its arguments (the name, then each value).
    var setClause: (template: String, arguments: [String]) {
        let literals = values.isEmpty ? "DEFAULT" : values.map { _ in "%L" }.joined(separator: ", ")
        return ("SET %I TO \(literals)", [name] + values)
    }
}
