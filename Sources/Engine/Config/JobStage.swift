/// One stage of a job's chain and the role it fills.
public struct JobStage: Sendable {
    public var kind: PluginKind
    public var stage: any Stage

    public init(_ kind: PluginKind, _ stage: any Stage) {
        self.kind = kind
        self.stage = stage
    }
}
