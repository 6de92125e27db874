/// What every plugin factory declares: its config name and the keys it accepts.
///
/// Keys are written in the config file as `<name>.<key>`; the engine rejects any key no plugin declares,
/// validates values against their ``KeySpec``, and redacts secret ones.
public protocol PluginFactory: Sendable {
    /// The name used in the config file, e.g. `count` for `retention = count`.
    var name: String { get }
    /// One line describing the plugin, for listings and errors.
    var summary: String { get }
    var keys: [KeySpec] { get }
    /// Names the plugin had in earlier releases, still accepted where its role is chosen (`retention =
    /// <former name>`), so a rename breaks no config. A former name may be another role's plugin now.
    var formerNames: [String] { get }
}

extension PluginFactory {
    public var formerNames: [String] { [] }
}
