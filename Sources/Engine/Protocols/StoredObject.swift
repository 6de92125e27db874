/// An object stored at a destination, as its listing reports it.
public struct StoredObject: Sendable, Equatable {
    public var name: String
    /// Where a person finds it: an absolute path for local storage, a URL for remote storage.
    public var location: String
    public var bytes: Int64

    public init(name: String, location: String, bytes: Int64) {
        self.name = name
        self.location = location
        self.bytes = bytes
    }
}
