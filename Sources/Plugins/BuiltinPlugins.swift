import Engine

/// Every built-in plugin. Adding one means a folder under Sources/Plugins and one line here.
public enum BuiltinPlugins {
    public static let registry = PluginRegistry(
        sources: [PostgresSourceFactory()],
        compressors: [GzipCompressorFactory(), ZstdCompressorFactory(), NoneCompressorFactory()],
        destinations: [LocalDestinationFactory()],
        retentions: [CountRetentionFactory(), RollingRetentionFactory(), AgeRetentionFactory()],
        notifiers: [WebhookNotifierFactory(), SlackNotifierFactory(), TeamsNotifierFactory()],
        defaults: [.source: "postgres", .compressor: "gzip", .destination: "local", .retention: "count"])
}
