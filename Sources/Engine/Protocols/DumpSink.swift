/// Where a source delivers its dump: the first stage of the backup pipeline. It holds a fixed number of
/// chunks; a send waits while it is full, so a slow compressor or disk slows the source down.
public final class DumpSink: Sendable {
    /// Chunks of about this size keep the pipeline's hand-overs cheap and its memory small.
    public static let preferredChunkSize = 256 << 10

    private let channel: BoundedChannel<[UInt8]>
    private let counted: @Sendable (Int) -> Void

    /// `counted` hears the size of every chunk accepted, on the sender's task or thread.
    init(channel: BoundedChannel<[UInt8]>, counted: @escaping @Sendable (Int) -> Void) {
        self.channel = channel
        self.counted = counted
    }

    /// Hands over `chunk`, suspending while the pipeline is full; throws once the pipeline failed.
    public func send(_ chunk: [UInt8]) async throws {
        try Task.checkCancellation()
        try await channel.send(chunk)
        counted(chunk.count)
    }

    /// Hands over `chunk` from a dedicated thread, blocking it while the pipeline is full.
    public func sendBlocking(_ chunk: [UInt8]) throws {
        try channel.sendBlocking(chunk)
        counted(chunk.count)
    }
}
