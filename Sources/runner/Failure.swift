/// Ends the process with one line on stderr and a specific exit code.
struct Failure: Error, CustomStringConvertible {
    /// EX_CONFIG from sysexits.h.
    static let configExitCode: Int32 = 78
    var message: String
    var exitCode: Int32
    var description: String { message }
}
