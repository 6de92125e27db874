/// One stage as the manifest records it: its role, plugin, level and parameters, in the order applied.
public struct StageRecord: Codable, Sendable, Equatable {
    /// The role (``PluginKind`` raw value), e.g. `compressor`.
    public var kind: String
    public var name: String
    public var level: Int?
    public var parameters: [String: String]?

    public init(kind: String, name: String, level: Int? = nil, parameters: [String: String]? = nil) {
        self.kind = kind
        self.name = name
        self.level = level
        self.parameters = parameters
    }

    public init(_ stage: any Stage, kind: PluginKind) {
        self.init(kind: kind.rawValue, name: stage.name, level: stage.level,
                  parameters: stage.parameters.isEmpty ? nil : stage.parameters)
    }
}
