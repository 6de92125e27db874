import AsyncHTTPClient
import Engine
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// The HTTP clients of this process, one per distinct set of TLS and timeout settings; they live as long
/// as the process (destinations are made once per job and used until exit).
enum S3HTTPClients {
    private static let clients = Mutex<[String: HTTPClient]>([:])

    /// `timeout` bounds a request whose connection neither sends nor receives for that long (an idle
    /// timeout, so a large part on a slow link is not cut short; a stalled server is): S3IdleTimeoutHandler.
    static func client(caFile: String?, timeout: Duration) throws -> HTTPClient {
        let key = "\(caFile ?? "")|\(timeout)"
        return try clients.withLock { clients in
            if let client = clients[key] { return client }
            let client = try make(caFile: caFile, timeout: timeout)
            clients[key] = client
            return client
        }
    }

    private static func make(caFile: String?, timeout: Duration) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        let idle = TimeAmount.milliseconds(Int64(timeout.inSeconds * 1000))
        // No read or write timeout of the client's own: its read timeout would start while a part is still
        // being sent. S3IdleTimeoutHandler measures idleness in both directions instead.
        configuration.timeout = .init(connect: .seconds(10))
        // S3 speaks HTTP/1.1; the handler and the socket option are set on HTTP/1.1 connections.
        configuration.httpVersion = .http1Only
        configuration.http1_1ConnectionDebugInitializer = { channel in prepare(channel, timeout: idle) }
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        // s3.concurrency parts at once (up to 64), besides the job's other requests.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 72
        if let caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw SettingError(key: "ca_file", message: "cannot read '\(caFile)'; check the path and the mount")
            }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caFile)
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// At most this many bytes wait unsent in the kernel (TCP_NOTSENT_LOWAT; bytes in flight are not
    /// limited, so neither is throughput): a write that completes is then close to bytes sent, and when the
    /// last one completes, little is left to go (this, 2.6 s at 100 KB/s, and what is in flight).
    static let unsentLimit = 256 << 10

    /// A new connection: the idle timeout between the response decoder and the client's handler, which
    /// then sees requests and answers as HTTP parts, and the limit on unsent bytes.
    private static func prepare(_ channel: any Channel, timeout: TimeAmount) -> EventLoopFuture<Void> {
        channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self)
            try pipeline.addHandler(S3IdleTimeoutHandler(timeout: timeout), position: .after(decoder))
            let notSentLowWater = ChannelOptions.tcpOption(.init(rawValue: TCP_NOTSENT_LOWAT))
            try channel.syncOptions?.setOption(notSentLowWater, value: unsentLimit)
        }
    }
}
