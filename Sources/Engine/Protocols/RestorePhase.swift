/// A step of a restore and how long it took, for the time to recover to be seen where it goes.
public struct RestorePhase: Sendable, Equatable {
    public var name: String
    public var seconds: Double

    public init(_ name: String, seconds: Double) {
        self.name = name
        self.seconds = seconds
    }
}
