import Foundation

/// `errno` as people read it.
enum Errno {
    static func text(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}
