/// One entry of `destination = a, b, b@eu`: a destination plugin, or a labelled instance of one.
struct DestinationInstance {
    /// As written: `b` or `b@eu`; the prefix of the instance's own keys (`b@eu.bucket`).
    var name: String
    var factory: any DestinationFactory
    var isLabelled: Bool { name.contains("@") }
}
