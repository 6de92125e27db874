/// One table's expected and restored row count, as `verify` prints it.
public struct RowCountCheck: Sendable, Equatable {
    public var table: String
    public var expected: Int64?
    public var restored: Int64?
    public var matches: Bool { expected == restored }
}
