/// Bech32 (BIP 173) as age uses it for keys: `age1…` recipients and `AGE-SECRET-KEY-1…` identities, without
/// BIP 173's 90-character limit. Written here because no available library has it; it is 60 lines.
enum Bech32 {
    private static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        var check: UInt32 = 1
        for value in values {
            let top = check >> 25
            check = (check & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where (top >> UInt32(bit)) & 1 == 1 { check ^= generator[bit] }
        }
        return check
    }

    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// Regroups bits, e.g. 8-bit bytes into 5-bit words; nil when unpadded input leaves stray bits.
    private static func regroup(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0, bits = 0
        var result: [UInt8] = []
        let mask = (1 << to) - 1
        for value in data {
            accumulator = accumulator << from | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                result.append(UInt8((accumulator >> bits) & mask))
            }
            accumulator &= (1 << bits) - 1
        }
        if pad {
            if bits > 0 { result.append(UInt8((accumulator << (to - bits)) & mask)) }
        } else if bits >= from || accumulator != 0 {
            return nil
        }
        return result
    }

    /// `hrp` (lowercase) and `data` as a lowercase Bech32 string.
    static func encode(hrp: String, data: [UInt8]) -> String {
        let words = regroup(data, from: 8, to: 5, pad: true)!
        let hrpBytes = Array(hrp.utf8)
        let check = polymod(expand(hrpBytes) + words + [0, 0, 0, 0, 0, 0]) ^ 1
        let checksum = (0..<6).map { UInt8((check >> UInt32(5 * (5 - $0))) & 31) }
        return hrp + "1" + String(decoding: (words + checksum).map { alphabet[Int($0)] }, as: UTF8.self)
    }

    /// The lowercase human-readable part and the data of `text`; nil when it is not valid Bech32 (mixed
    /// case, a character outside the alphabet, a wrong checksum, stray padding bits).
    static func decode(_ text: String) -> (hrp: String, data: [UInt8])? {
        let lower = text.lowercased()
        guard lower == text || text.uppercased() == text else { return nil }
        let bytes = Array(lower.utf8)
        guard let separator = bytes.lastIndex(of: UInt8(ascii: "1")), separator >= 1, bytes.count - separator >= 7,
              bytes.allSatisfy({ (33...126).contains($0) }) else { return nil }
        var words: [UInt8] = []
        for byte in bytes[(separator + 1)...] {
            guard let index = alphabet.firstIndex(of: byte) else { return nil }
            words.append(UInt8(index))
        }
        let hrp = Array(bytes[..<separator])
        guard polymod(expand(hrp) + words) == 1,
              let data = regroup(Array(words.dropLast(6)), from: 5, to: 8, pad: false) else { return nil }
        return (String(decoding: hrp, as: UTF8.self), data)
    }
}
