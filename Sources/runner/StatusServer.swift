import Engine
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// `http.listen`: GET / (the status page), /healthz (the scheduler runs), /readyz (every job's last run
/// succeeded or it has not run yet) and /metrics (Prometheus text format) for `backup run`. Plain HTTP/1.1
/// on SwiftNIO; each answer closes its connection, which probes and scrapers handle fine.
enum StatusServer {
    static func start(_ address: HTTPAddress, status: DaemonStatus, logger: Logger) async throws -> any Channel {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(StatusHandler(status: status))
                }
            }
            .bind(host: address.host, port: address.port).get()
        logger.info("serving /, /healthz, /readyz and /metrics on http://\(address)")
        return channel
    }

    /// The answer to one request: status, content type, body.
    static func answer(
        _ method: HTTPMethod, _ uri: String, status: DaemonStatus
    ) -> (HTTPResponseStatus, String, [UInt8]) {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        guard method == .GET || method == .HEAD else {
            return (.methodNotAllowed, "text/plain", Array("GET only\n".utf8))
        }
        switch path {
        case "/":
            let now = Date()
            let page = StatusPage.html(status.statuses(at: now), failures: status.failingJobs,
                                       failing: status.failingJobNames, now: now)
            return (.ok, "text/html; charset=utf-8", Array(page.utf8))
        case "/healthz":
            return status.schedulerAlive ? (.ok, "text/plain", Array("ok\n".utf8))
                : (.serviceUnavailable, "text/plain", Array("the scheduler is not running\n".utf8))
        case "/readyz":
            let failing = status.failingJobs
            return failing.isEmpty ? (.ok, "text/plain", Array("ok: \(status.jobNames.count) job(s)\n".utf8))
                : (.serviceUnavailable, "text/plain",
                   Array("last run failed: \(failing.joined(separator: "; "))\n".utf8))
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", status.registry.emitToBuffer())
        default:
            return (.notFound, "text/plain", Array("not found; try /, /healthz, /readyz or /metrics\n".utf8))
        }
    }
}

private final class StatusHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let status: DaemonStatus
    init(status: DaemonStatus) { self.status = status }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        let (code, type, body) = StatusServer.answer(request.method, request.uri, status: status)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        // The page loads nothing from anywhere, runs no script and is never framed; nothing is cached.
        headers.add(name: "Content-Security-Policy",
                    value: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Cache-Control", value: "no-store")
        let head = HTTPResponseHead(version: request.version, status: code, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD {
            let buffer = context.channel.allocator.buffer(bytes: body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
