import Engine
import Foundation

/// The cron expression, duration and size parsers, chosen by the first byte. A cron expression that parses
/// gives times strictly after the one asked about, in order; a duration is finite, not negative and at most
/// ten years; a size is at most 1 PiB and its text form parses back to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSchedule(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    switch data[0] % 3 {
    case 0:
        guard let schedule = try? CronSchedule(text) else { return 0 }
        var date = Date(timeIntervalSince1970: 1_780_000_000)
        for zone in ["UTC", "Europe/Berlin", "America/New_York"] {
            guard let timeZone = TimeZone(identifier: zone) else { continue }
            for _ in 0..<3 {
                guard let next = schedule.next(after: date, in: timeZone) else { break }
                precondition(next > date, "\(text): \(next) is not after \(date) in \(zone)")
                date = next
            }
        }
    case 1:
        if let seconds = DurationParser.seconds(text) {
            precondition(seconds.isFinite && seconds >= 0 && seconds <= 10 * 366 * 86_400, "\(text): \(seconds)")
        }
    default:
        if let bytes = SizeParser.bytes(text) {
            precondition(bytes >= 0 && bytes <= 1 << 50, "\(text): \(bytes)")
            precondition(SizeParser.bytes(SizeParser.text(bytes)) == bytes, "\(text): \(bytes) does not round-trip")
        }
    }
    return 0
}
