import NIOCore

/// A request's connection sent and received nothing for `s3.request_timeout`.
struct S3IdleTimeout: Error, CustomStringConvertible {
    var timeout: TimeAmount

    var description: String {
        let seconds = Double(timeout.nanoseconds) / 1e9
        let text = seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)"
        return "nothing sent or received for \(text) s (s3.request_timeout)"
    }
}
