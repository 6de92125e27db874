/// Makes a ``Source`` from its settings.
public protocol SourceFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any Source
    /// The name of the only job of a configuration file without `[job]` sections (the database's name).
    func defaultJobName(_ settings: PluginSettings) -> String?
    /// The external tools this machine offers the source, one line each (a tool's name, version and path),
    /// for `check-config`: what an operator reads in a pod's log to see which servers it can back up.
    /// Empty when the source needs no tool.
    func tools() async -> [String]
}

extension SourceFactory {
    public func tools() async -> [String] { [] }
}
