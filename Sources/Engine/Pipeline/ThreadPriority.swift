import Foundation

/// The priority of the threads that compress.
///
/// The database server and its dump tool set a backup's pace; compression only has to keep up. On a machine
/// they share, equal priorities make the scheduler time-slice the server against the compressor, so the
/// dump slows down while the compressor waits for input. Compression threads therefore run at nice 10:
/// they get every cycle the database does not need, and none it does. On an idle machine this changes
/// nothing. Threads that a compression library starts inherit the value from the compressor thread that starts them.
public enum ThreadPriority {
    public static let compressionNice: Int32 = 10

    /// Lowers the calling thread's priority (on Linux the nice value belongs to the thread, and raising
    /// it needs no privilege). Failure only costs speed, so it is ignored.
    public static func yieldToDatabase() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, compressionNice)
        #endif
    }
}
