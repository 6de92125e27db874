/// Makes a ``Compressor`` from its settings.
public protocol CompressorFactory: PluginFactory {
    func make(_ settings: PluginSettings) throws -> any Compressor
}
