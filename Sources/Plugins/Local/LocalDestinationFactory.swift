import Engine
import Foundation

/// `local`: a directory on a mounted volume (the original container's BACKUP_DIR).
public struct LocalDestinationFactory: DestinationFactory {
    public init() {}
    public let name = "local"
    public let summary = "a directory, e.g. a persistent volume"
    public let keys = [KeySpec("path", .string, required: true, summary: "directory that holds the backups")]

    public func make(_ settings: PluginSettings) throws -> any Destination {
        guard let path = settings.string("path"), !path.isEmpty else {
            throw SettingError(key: "path", message: "must name a directory")
        }
        return LocalDestination(path: URL(fileURLWithPath: path).standardizedFileURL.path)
    }

    /// A file path (anything with a `/`, relative ones against the working directory) or a `file://` URL.
    public func resolve(location: String, settings: PluginSettings) -> (destination: any Destination, name: String)? {
        let url: URL
        if location.hasPrefix("file://"), let parsed = URL(string: location), parsed.isFileURL {
            url = parsed
        } else if location.contains("/"), !location.contains("://") {
            url = URL(fileURLWithPath: location)
        } else {
            return nil
        }
        let name = url.lastPathComponent
        guard !name.isEmpty, name != "/" else { return nil }
        return (LocalDestination(path: url.deletingLastPathComponent().standardizedFileURL.path), name)
    }
}
