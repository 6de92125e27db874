import Engine

/// The size of each part of a multipart upload whose length is not known in advance.
///
/// Parts start at `partSize` and double every `step` parts (at most S3's 5 GiB per part), with `step` the
/// largest that still lets `maxParts` parts hold `maxSize`: small backups use small parts (little memory,
/// cheap retries), and one of any size up to `maxSize` fits a provider's part-count limit (10,000 on AWS,
/// 1,000 on some others).
struct PartPlan: Sendable, Equatable {
    static let largestPart: Int64 = 5 << 30

    let partSize: Int64
    let maxParts: Int
    let maxSize: Int64
    let step: Int

    /// Throws, naming the keys to change, when `maxParts` parts cannot hold `maxSize` even doubling every part.
    init(partSize: Int64, maxParts: Int, maxSize: Int64) throws {
        self.partSize = partSize
        self.maxParts = maxParts
        self.maxSize = maxSize
        guard Self.capacity(partSize, maxParts, step: 1) >= maxSize else {
            let most = Self.describe(Self.capacity(partSize, maxParts, step: 1))
            throw SettingError(key: "max_parts", message:
                "\(maxParts) parts starting at \(SizeParser.text(partSize)) hold at most \(most),"
                    + " less than s3.max_size \(SizeParser.text(maxSize));"
                    + " raise s3.max_parts or s3.part_size, or lower s3.max_size")
        }
        // Capacity grows as the step shrinks; the largest step that suffices keeps parts smallest.
        var low = 1, high = maxParts
        while low < high {
            let middle = (low + high + 1) / 2
            if Self.capacity(partSize, maxParts, step: middle) >= maxSize { low = middle } else { high = middle - 1 }
        }
        step = low
    }

    /// The size of part `number` (1-based).
    func size(ofPart number: Int) -> Int64 {
        Self.size(partSize, part: number, step: step)
    }

    private static func size(_ base: Int64, part: Int, step: Int) -> Int64 {
        let doublings = (part - 1) / step
        guard doublings < 40, base <= largestPart >> doublings else { return largestPart }
        return base << doublings
    }

    /// The bytes `parts` parts hold when their size doubles every `step`.
    static func capacity(_ base: Int64, _ parts: Int, step: Int) -> Int64 {
        var total: Int64 = 0
        var part = 1
        while part <= parts {
            let size = Self.size(base, part: part, step: step)
            let run = min(step - (part - 1) % step, parts - part + 1)
            total += size * Int64(run)
            if total >= Int64(1) << 50 { return total }
            part += run
        }
        return total
    }

    private static func describe(_ bytes: Int64) -> String {
        bytes >= 1 << 30 ? "\(bytes >> 30) GiB" : "\(bytes >> 20) MiB"
    }
}
