/// Walks the blocks of a raw deflate stream (RFC 1951) without producing its output, to find where its
/// final block begins and where the stream ends, both as bit offsets.
///
/// libdeflate compresses a buffer only as a complete stream: its last block is marked final, and it ends
/// mid-byte. To append more blocks behind it, ``ParallelGzipEncoder`` clears that final bit and byte-aligns
/// the stream with an empty stored block, as zlib's sync flush does. Neither libdeflate nor zlib reports
/// where a stream's blocks begin, so this reads their headers and skips their Huffman codes. It checks what
/// it reads as zlib's inflate does (every code complete and every symbol defined, the stream ending in its
/// last byte), except distances reaching back too far, since it keeps no output. A stream it does not
/// understand is reported, never joined wrongly.
final class DeflateBlockScanner {
    struct Ends: Equatable {
        /// The bit offset of the final block's header, whose first bit marks it final.
        var finalBlock: Int
        /// The bit offset just past the final block's end-of-block code.
        var end: Int
    }

    private let literals = HuffmanTable(.literals)
    private let distances = HuffmanTable(.distances)
    private let codeLengths = HuffmanTable(.codeLengths)
    private let fixedLiterals = HuffmanTable(.literals)
    private let fixedDistances = HuffmanTable(.distances)
    private var lengths = [UInt8](repeating: 0, count: 288 + 32)

    init() {
        let fixed = (0..<288).map { symbol -> UInt8 in symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8 }
        // The fixed distance code has 32 codes; 30 and 31 never occur (`build` marks them invalid).
        let complete = fixedLiterals.build(fixed[...]) && fixedDistances.build([UInt8](repeating: 5, count: 32)[...])
        precondition(complete, "deflate's fixed codes are complete")
    }

    /// Where `stream`'s final block begins and where it ends; nil unless it is one valid deflate stream
    /// ending in its last byte.
    func scan(_ stream: UnsafeRawBufferPointer) -> Ends? {
        guard let base = stream.baseAddress, !stream.isEmpty else { return nil }
        var bits = BitReader(base: base.assumingMemoryBound(to: UInt8.self), count: stream.count)
        var header = 0
        var final = false
        while !final {
            header = bits.position
            final = bits.take(1) == 1
            switch bits.take(2) {
            case 0: guard skipStored(&bits) else { return nil }
            case 1: guard skipCodes(&bits, fixedLiterals, fixedDistances) else { return nil }
            case 2: guard readCodes(&bits), skipCodes(&bits, literals, distances) else { return nil }
            default: return nil
            }
            guard bits.position <= bits.limit else { return nil }
        }
        guard (bits.position + 7) / 8 == stream.count else { return nil }
        return Ends(finalBlock: header, end: bits.position)
    }

    private func skipStored(_ bits: inout BitReader) -> Bool {
        bits.position = (bits.position + 7) & ~7
        let length = bits.take(16)
        guard length ^ 0xffff == bits.take(16) else { return false }
        bits.position += length * 8
        return true
    }

    /// Reads a dynamic block's code lengths into `literals` and `distances`.
    private func readCodes(_ bits: inout BitReader) -> Bool {
        let literalCount = bits.take(5) + 257
        let distanceCount = bits.take(5) + 1
        let lengthCodeCount = bits.take(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { return false }
        var lengthCodes = [UInt8](repeating: 0, count: 19)
        for index in 0..<lengthCodeCount { lengthCodes[Self.lengthCodeOrder[index]] = UInt8(bits.take(3)) }
        guard codeLengths.build(lengthCodes[...]) else { return false }
        let total = literalCount + distanceCount
        var index = 0
        while index < total {
            guard let symbol = codeLengths.decode(&bits) else { return false }
            var repeats = 1
            var value = UInt8(truncatingIfNeeded: symbol)
            switch symbol {
            case 16:
                guard index > 0 else { return false }
                value = lengths[index - 1]
                repeats = 3 + bits.take(2)
            case 17: (value, repeats) = (0, 3 + bits.take(3))
            case 18: (value, repeats) = (0, 11 + bits.take(7))
            default: break
            }
            guard index + repeats <= total, bits.position <= bits.limit else { return false }
            for offset in index..<index + repeats { lengths[offset] = value }
            index += repeats
        }
        guard lengths[256] != 0 else { return false }
        return literals.build(lengths[0..<literalCount]) && distances.build(lengths[literalCount..<total])
    }

    /// Skips a block's symbols up to and including its end-of-block code. The hot loop: a table entry
    /// already holds the bits to skip (code and extra bits) and what follows.
    private func skipCodes(_ bits: inout BitReader, _ literals: HuffmanTable, _ distances: HuffmanTable) -> Bool {
        let (literalTable, literalMask) = (literals.table, literals.mask)
        let (distanceTable, distanceMask) = (distances.table, distances.mask)
        var position = bits.position
        defer { bits.position = position }
        while position <= bits.limit {
            let next = bits.peek(at: position)
            var entry = literalTable[Int(next & literalMask)]
            if entry >> HuffmanTable.kindShift == HuffmanTable.long { entry = literals.longEntry(next) }
            position += Int(entry & HuffmanTable.skipMask)
            switch entry >> HuffmanTable.kindShift {
            case HuffmanTable.literal: continue
            case HuffmanTable.match:
                let next = bits.peek(at: position)
                var distance = distanceTable[Int(next & distanceMask)]
                if distance >> HuffmanTable.kindShift == HuffmanTable.long { distance = distances.longEntry(next) }
                guard distance >> HuffmanTable.kindShift == HuffmanTable.literal else { return false }
                position += Int(distance & HuffmanTable.skipMask)
            case HuffmanTable.endOfBlock: return true
            default: return false
            }
        }
        return false
    }

    private static let lengthCodeOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
}

/// Reads a byte buffer least significant bit first, as deflate packs it. Reads past the end see zeros; the
/// scanner checks `position` against `limit` instead of every read.
private struct BitReader {
    let base: UnsafePointer<UInt8>
    let count: Int
    var position = 0
    var limit: Int { count * 8 }

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    /// At least the next 56 bits, lowest first.
    @inline(__always) func peek() -> UInt64 { peek(at: position) }

    /// At least 56 bits from bit `position` on, lowest first.
    @inline(__always) func peek(at position: Int) -> UInt64 {
        let byte = position >> 3
        var word: UInt64 = 0
        if byte + 8 <= count {
            word = UInt64(littleEndian: UnsafeRawPointer(base + byte).loadUnaligned(as: UInt64.self))
        } else if byte < count {
            for index in stride(from: count - 1, through: byte, by: -1) { word = word << 8 | UInt64(base[index]) }
        }
        return word >> UInt64(position & 7)
    }

    @inline(__always) mutating func take(_ count: Int) -> Int {
        let value = Int(truncatingIfNeeded: peek() & ((1 << UInt64(count)) - 1))
        position += count
        return value
    }
}

/// A canonical Huffman code as deflate defines it. Codes up to `primaryBits` long decode by one lookup in a
/// table indexed by that many next bits, small enough to stay in the L1 cache; the rare longer ones are
/// found by walking the canonical code bit by bit (`longEntry`).
///
/// For the code-length code, an entry is the symbol shifted left by `kindShift` plus the code's length.
/// For literal/length and distance codes, it is what the scanner needs: a kind (`literal`, `match`,
/// `endOfBlock`, `long`, or `invalid` for a symbol deflate does not define or bits that start no code)
/// and the bits to skip, the code's own plus the extra bits of a length or distance.
private final class HuffmanTable {
    enum Role { case codeLengths, literals, distances }

    static let kindShift: UInt16 = 5
    static let skipMask: UInt16 = 31
    // A distance entry's kind is `literal` when valid, so one comparison checks it.
    static let literal: UInt16 = 0, match: UInt16 = 1, endOfBlock: UInt16 = 2, invalid: UInt16 = 3, long: UInt16 = 4
    static let primaryBits = 10

    let role: Role
    let table = UnsafeMutablePointer<UInt16>.allocate(capacity: 1 << primaryBits)
    private(set) var mask: UInt64 = 0
    /// How many codes each length has, and the entries in canonical order (by length, then symbol).
    private var counts = [Int](repeating: 0, count: 16)
    private var canonical = [UInt16](repeating: 0, count: 288)

    init(_ role: Role) { self.role = role }
    deinit { table.deallocate() }

    /// Builds the code of these lengths (0: the symbol is unused); false if zlib would refuse them: a code
    /// that over-subscribes its bits, or leaves some unused, except for a lone 1-bit code and, for
    /// distances, no code at all (a block of literals only).
    func build(_ lengths: ArraySlice<UInt8>) -> Bool {
        counts = [Int](repeating: 0, count: 16)
        for length in lengths { counts[Int(length)] += 1 }
        counts[0] = 0
        var left = 1
        for length in 1...15 {
            left = left << 1 - counts[length]
            if left < 0 { return false }
        }
        let longest = (1...15).last { counts[$0] > 0 } ?? 0
        if left > 0 && longest > 0 && (role == .codeLengths || longest != 1) { return false }
        let width = min(Self.primaryBits, longest)
        let size = 1 << width
        mask = UInt64(size - 1)
        // Bits that start no code: 0 for the code-length code, an invalid kind for the others (whose 0
        // would read as a literal of no bits).
        table.initialize(repeating: role == .codeLengths ? 0 : Self.invalid << Self.kindShift, count: size)
        var next = [Int](repeating: 0, count: 16)
        var slot = [Int](repeating: 0, count: 16)
        var code = 0
        for length in 1...15 {
            code = (code + counts[length - 1]) << 1
            next[length] = code
            slot[length] = length == 1 ? 0 : slot[length - 1] + counts[length - 1]
        }
        for (symbol, length) in lengths.enumerated() where length > 0 {
            let length = Int(length)
            let code = next[length]
            next[length] += 1
            let entry = self.entry(symbol, length)
            canonical[slot[length]] = entry
            slot[length] += 1
            // Deflate sends a code's bits from its most significant; the table is indexed by bits as read.
            var reversed = 0
            for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
            if length > width {
                table[reversed & (size - 1)] = Self.long << Self.kindShift
            } else {
                for index in stride(from: reversed, to: size, by: 1 << length) { table[index] = entry }
            }
        }
        return true
    }

    private func entry(_ symbol: Int, _ length: Int) -> UInt16 {
        let (kind, extra): (UInt16, Int)
        switch role {
        case .codeLengths: return UInt16(symbol) << Self.kindShift | UInt16(length)
        case .literals:
            switch symbol {
            case ..<256: (kind, extra) = (Self.literal, 0)
            case 256: (kind, extra) = (Self.endOfBlock, 0)
            // Lengths 257 to 284 carry (symbol - 261) / 4 extra bits from 265 on; 285 carries none.
            case 257..<265, 285: (kind, extra) = (Self.match, 0)
            case 265..<285: (kind, extra) = (Self.match, (symbol - 261) / 4)
            default: (kind, extra) = (Self.invalid, 0)
            }
        case .distances:
            // Distances 0 to 3 carry no extra bits, then (symbol - 2) / 2.
            switch symbol {
            case ..<4: (kind, extra) = (Self.literal, 0)
            case 4..<30: (kind, extra) = (Self.literal, (symbol - 2) / 2)
            default: (kind, extra) = (Self.invalid, 0)
            }
        }
        return kind << Self.kindShift | UInt16(length + extra)
    }

    /// The entry of a code longer than the table's width, starting at the lowest of `bits`: canonical
    /// codes of one length are consecutive, so each length either holds the code read so far or passes.
    func longEntry(_ bits: UInt64) -> UInt16 {
        var code = 0, first = 0, index = 0
        for length in 1...15 {
            code |= Int(truncatingIfNeeded: bits >> UInt64(length - 1)) & 1
            let count = counts[length]
            if code - first < count { return canonical[index + code - first] }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        return Self.invalid << Self.kindShift
    }

    /// The next symbol of the code-length code, consuming its code; nil if the bits start no code.
    func decode(_ bits: inout BitReader) -> Int? {
        let entry = table[Int(bits.peek() & mask)]
        guard entry != 0 else { return nil }
        bits.position += Int(entry & Self.skipMask)
        return Int(entry >> Self.kindShift)
    }
}
