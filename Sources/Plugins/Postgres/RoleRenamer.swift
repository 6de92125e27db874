import Foundation

/// Gives a source role's objects and grants to another role (`--map-role SOURCE=TARGET`) by rewriting the
/// role's name where a SQL script from pg_dump (or `pg_restore -f -`) names a role, as the script streams
/// into psql.
///
/// No SQL parser of PostgreSQL's is available as a library, and a textual search would also rewrite a
/// table's data, a function body or a comment that happens to read `OWNER TO postgres`. So this is a lexer
/// of the script as psql reads it (comments, strings, quoted identifiers, dollar quotes, `COPY … FROM
/// stdin` data up to its `\.`, and psql's own `\` lines), and only a name in a role position of a
/// statement (``RolePositions``) is rewritten. Everything else passes byte for byte. The input may be cut
/// into chunks anywhere.
struct RoleRenamer {
    let map: [String: String]
    /// How many names were rewritten, per source role.
    var renamed: [String: Int] = [:]
    /// A psql command in the script other than pg_dump's own `\restrict KEY` and `\unrestrict KEY`
    /// (e.g. `\! cmd`, which would run in this pod): its first bytes. It is never passed on, and the
    /// caller must stop the load.
    var refused: String?

    enum State {
        case code, word, number, quoted, string, lineComment, blockComment, dollarTag, dollarBody
        case copyRest, copyData, meta
        /// Saw `-` or `/` (a comment may start), `'` or `"` inside a string or identifier (it may be doubled).
        case dash, slash, stringQuote, quotedQuote
    }

    var state = State.code
    var statement = RolePositions()
    /// The current word, quoted identifier, or (where a role may stand) string, quotes included.
    var held: [UInt8] = []
    /// The held token grew past any role name: it is passed on and never renamed.
    var heldOverflow = false
    /// A string that is being held (it stands where a role may) rather than passed on as it streams.
    var holdingString = false
    var escapeString = false
    var backslash = false
    var commentDepth = 0
    var commentLast: UInt8 = 0
    /// `$tag$`, as read so far, and how much of it a dollar-quoted body has matched at its end.
    var tag: [UInt8] = []
    var tagMatched = 0
    /// In COPY data: -1 mid-line, else how much of `\.` (then `\r`) the line has begun with.
    var copyLine = 0

    static let heldLimit = 256

    init(map: [String: String]) {
        self.map = map
    }

    mutating func rewrite(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let input = bytes.bindMemory(to: UInt8.self)
        var i = 0
        while i < input.count {
            if let skip = bulk(input, from: i, into: &out) {
                i = skip
                continue
            }
            if step(input[i], into: &out) { i += 1 }
        }
    }

    /// Ends the script: a token still held is passed on.
    mutating func finish(into out: inout [UInt8]) {
        switch state {
        case .word: endWord(into: &out)
        case .quotedQuote: endQuoted(into: &out)
        case .stringQuote: endString(into: &out)
        case .meta: endCommand(into: &out)
        default: out += held
        }
        held.removeAll()
    }

    /// Passes on a run of bytes no state change can come from, at once; nil when there is none here.
    mutating func bulk(_ input: UnsafeBufferPointer<UInt8>, from i: Int, into out: inout [UInt8]) -> Int? {
        let target: UInt8
        switch state {
        case .lineComment, .copyRest: target = 0x0A
        case .copyData where copyLine == -1: target = 0x0A
        case .dollarBody where tagMatched == 0: target = 0x24
        case .string where !holdingString && !backslash:
            var j = i
            while j < input.count && input[j] != 0x27 && input[j] != 0x5C { j += 1 }
            return pass(input, i, j, into: &out)
        default: return nil
        }
        let base = input.baseAddress! + i
        let j = memchr(base, Int32(target), input.count - i).map {
            i + UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0))
        } ?? input.count
        return pass(input, i, j, into: &out)
    }

    func pass(_ input: UnsafeBufferPointer<UInt8>, _ i: Int, _ j: Int, into out: inout [UInt8]) -> Int? {
        guard j > i else { return nil }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<j]))
        return j
    }

    /// Takes one byte; false when the byte is to be read again in the state it led to.
    mutating func step(_ byte: UInt8, into out: inout [UInt8]) -> Bool {
        switch state {
        case .code: return code(byte, into: &out)
        case .word: return word(byte, into: &out)
        case .number:
            if Self.isWordByte(byte) || byte == 0x2E { out.append(byte); return true }
            state = .code
            return false
        case .quoted:
            hold(byte, into: &out)
            if byte == 0x22 { state = .quotedQuote }
            return true
        case .quotedQuote:
            if byte == 0x22 { hold(byte, into: &out); state = .quoted; return true }
            endQuoted(into: &out)
            return false
        case .string: string(byte, into: &out); return true
        case .stringQuote:
            if byte == 0x27 { emitString(byte, into: &out); state = .string; return true }
            endString(into: &out)
            return false
        case .lineComment:
            out.append(byte)
            if byte == 0x0A { state = .code }
            return true
        case .meta:
            if byte == 0x0A {
                endCommand(into: &out)
                out.append(byte)
            } else if held.count < Self.heldLimit {
                held.append(byte)
            } else {
                refused = refused ?? String(decoding: held.prefix(40), as: UTF8.self)
            }
            return true
        case .blockComment: blockComment(byte, into: &out); return true
        case .dash:
            if byte == 0x2D { out.append(byte); state = .lineComment; return true }
            statement.note(.other)
            state = .code
            return false
        case .slash:
            if byte == 0x2A { out.append(byte); commentDepth = 1; commentLast = 0; state = .blockComment; return true }
            statement.note(.other)
            state = .code
            return false
        case .dollarTag: return dollarTag(byte, into: &out)
        case .dollarBody: dollarBody(byte, into: &out); return true
        case .copyRest:
            out.append(byte)
            if byte == 0x0A { state = .copyData; copyLine = 0 }
            return true
        case .copyData: copyData(byte, into: &out); return true
        }
    }

    mutating func word(_ byte: UInt8, into out: inout [UInt8]) -> Bool {
        if Self.isWordByte(byte) { hold(byte, into: &out); return true }
        if byte == 0x27 && (held == [0x45] || held == [0x65]) {  // E'…': backslash escapes
            out += held
            held.removeAll()
            startString(escapes: true, into: &out)
            return true
        }
        endWord(into: &out)
        return false
    }

    mutating func code(_ byte: UInt8, into out: inout [UInt8]) -> Bool {
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0D, 0x0C: out.append(byte)
        case 0x27: startString(escapes: false, into: &out)
        case 0x22: startHolding(byte); state = .quoted
        case 0x2D: out.append(byte); state = .dash
        case 0x2F: out.append(byte); state = .slash
        case 0x24: out.append(byte); tag = [byte]; state = .dollarTag
        case 0x5C: startHolding(byte); state = .meta
        case 0x30...0x39: out.append(byte); statement.note(.other); state = .number
        case 0x3B:
            out.append(byte)
            let copies = statement.endsCopyFromStdin
            statement = RolePositions()
            if copies { state = .copyRest }
        case 0x28, 0x29, 0x2C: out.append(byte); statement.note(.punctuation(byte))
        case _ where Self.isWordByte(byte): startHolding(byte); state = .word
        default: out.append(byte); statement.note(.other)
        }
        return true
    }

    mutating func startHolding(_ byte: UInt8) {
        held.removeAll(keepingCapacity: true)
        held.append(byte)
        heldOverflow = false
    }

    mutating func hold(_ byte: UInt8, into out: inout [UInt8]) {
        if heldOverflow { out.append(byte); return }
        held.append(byte)
        if held.count > Self.heldLimit {
            out += held
            held.removeAll()
            heldOverflow = true
        }
    }

    mutating func endWord(into out: inout [UInt8]) {
        state = .code
        defer { held.removeAll(keepingCapacity: true) }
        guard !heldOverflow else { statement.note(.other); return }
        let replacement = statement.note(.word(held))
        emit(replacement, original: held, into: &out)
    }

    mutating func endQuoted(into out: inout [UInt8]) {
        state = .code
        defer { held.removeAll(keepingCapacity: true) }
        guard !heldOverflow else { statement.note(.other); return }
        let replacement = statement.note(.quoted(Self.unquoted(held)))
        emit(replacement, original: held, into: &out)
    }

    mutating func emit(_ name: String?, original: [UInt8], into out: inout [UInt8]) {
        guard let name, let target = map[name] else { out += original; return }
        renamed[name, default: 0] += 1
        out += Array(("\"" + target.replacingOccurrences(of: "\"", with: "\"\"") + "\"").utf8)
    }
}
