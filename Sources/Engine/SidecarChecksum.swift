/// The size and SHA-256 of one sidecar, as the manifest records them. They catch a damaged or swapped
/// sidecar; like the manifest itself they prove nothing against someone who rewrites both.
public struct SidecarChecksum: Codable, Sendable, Equatable {
    /// The sidecar's size in bytes.
    public var bytes: Int64
    /// Its SHA-256 in lower-case hex, as `sha256sum` prints it.
    public var sha256: String

    /// A recorded size and SHA-256.
    public init(bytes: Int64, sha256: String) {
        self.bytes = bytes
        self.sha256 = sha256
    }

    /// The size and SHA-256 of `contents`.
    public init(of contents: [UInt8]) {
        var checksum = Checksum()
        checksum.update(contents)
        self.init(bytes: checksum.bytes, sha256: checksum.hex())
    }
}
