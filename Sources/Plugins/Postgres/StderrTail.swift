import Foundation
import Subprocess

/// Keeps the last lines of pg_dump's stderr for the error message, without letting it grow.
enum StderrTail {
    static func collect(_ sequence: SubprocessOutputSequence) async throws -> String {
        var tail: [UInt8] = []
        for try await buffer in sequence {
            tail += buffer.withUnsafeBytes { Array($0) }
            if tail.count > 4096 { tail.removeFirst(tail.count - 4096) }
        }
        return lastLines(String(decoding: tail, as: UTF8.self))
    }

    /// The last three lines of a tool's stderr, on one line.
    static func lastLines(_ text: String) -> String {
        text.split(separator: "\n").suffix(3).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " | ")
    }
}
