import Foundation

/// A backup the engine made, as found at a destination: its data object and its manifest.
public struct BackupRecord: Sendable, Equatable {
    public var object: StoredObject
    public var manifest: Manifest

    public init(object: StoredObject, manifest: Manifest) {
        self.object = object
        self.manifest = manifest
    }

    public var name: String { object.name }
    public var created: Date { manifest.startedAt }
}
