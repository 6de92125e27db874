/// One line of the effective configuration, for `check-config`: secrets already redacted.
public struct EffectiveSetting: Sendable, Equatable {
    public var key: String
    public var value: String
    /// `file:line`, `default`, or `environment`.
    public var origin: String
}
