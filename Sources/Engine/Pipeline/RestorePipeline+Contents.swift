extension RestorePipeline {
    /// The whole of a small backup (a whole-server job's roles), its stages undone, its checksum proven
    /// on the way; fails when it would be more than `limit` bytes.
    public func contents(_ location: BackupLocation, job: Job, limit: Int) async throws -> [UInt8] {
        let record = location.record
        let stages = try record.manifest.stages.map { try stage(for: $0, job: job) }
        let decoders = try zip(stages, record.manifest.stages).reversed().map { try $0.makeDecoder(for: $1) }
        var bytes: [UInt8] = []
        try await Self.feed(record, from: location.destination, through: ChainTransform.chain(decoders), proven: true,
                            progress: nil) { chunk in
            guard bytes.count + chunk.count <= limit else {
                throw BackupError(.corrupt, "\(record.name) holds more than \(limit) bytes, more than it can be")
            }
            bytes += chunk
        }
        return bytes
    }
}
