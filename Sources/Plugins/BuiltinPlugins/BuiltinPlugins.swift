import Age
import Count
import Expire
import Engine
import Gzip
import Local
import None
import Postgres
import Rolling
import S3
import Slack
import Teams
import Webhook
import Zstd

/// Every built-in plugin, listed once. Adding one means a folder under Sources/Plugins (its own target in
/// Package.swift) and one line here.
public enum BuiltinPlugins {
    public static let registry = PluginRegistry(
        sources: [PostgresSourceFactory()],
        compressors: [GzipCompressorFactory(), ZstdCompressorFactory(), NoneCompressorFactory()],
        encryptions: [AgeEncryptionFactory()], encryptionOff: "none",
        destinations: [LocalDestinationFactory(), S3DestinationFactory()],
        retentions: [CountRetentionFactory(), RollingRetentionFactory(), ExpireRetentionFactory()],
        notifiers: [WebhookNotifierFactory(), SlackNotifierFactory(), TeamsNotifierFactory()],
        defaults: [.source: "postgres", .compressor: "gzip", .destination: "local", .retention: "count"])
}
