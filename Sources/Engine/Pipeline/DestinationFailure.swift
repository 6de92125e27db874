/// A destination that did not get a run's backup, and why.
public struct DestinationFailure: Sendable, CustomStringConvertible {
    public var destination: String
    public var error: any Error

    public init(destination: String, error: any Error) {
        self.destination = destination
        self.error = error
    }

    public var description: String { "\(destination): \(error)" }
}
