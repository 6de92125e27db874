/// The plugin roles a job is composed of, one plugin each.
public enum PluginKind: String, Sendable, CaseIterable {
    case source, compressor, encryption, destination, retention

    /// The roles whose plugins are byte stages, in the order a backup applies them: encryption after
    /// compression, since encrypted bytes do not compress.
    public static let stages: [PluginKind] = [.compressor, .encryption]
}
