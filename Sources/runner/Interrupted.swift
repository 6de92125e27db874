/// A command was stopped by SIGINT or SIGTERM after it cleaned up.
struct Interrupted: Error {
    var signal: Int32
}
