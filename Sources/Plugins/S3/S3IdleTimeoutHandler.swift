import NIOCore
import NIOHTTP1

/// Fails a request whose connection sends nothing and receives nothing for `s3.request_timeout`: the
/// timeout is one of idleness in both directions, so a slow upload that keeps moving is never cut off.
///
/// AsyncHTTPClient's own read timeout starts once the end of the request is handed to the channel, which
/// for a part held in memory is at once, while megabytes still wait to be sent; a part on a slow link was
/// cut off and sent again, and again. This handler sits between the HTTP codec and the client's handler, so
/// it sees each request begin and its answer end. In between, progress is a slice of the body leaving NIO
/// for the kernel, or a part of the answer arriving. Bodies go on in slices of `slice` bytes (views of the
/// part, not copies), so progress shows within a part; the connection's TCP_NOTSENT_LOWAT (S3HTTPClients)
/// keeps the kernel from taking more than a little unsent, so a slice written is a slice on its way out.
final class S3IdleTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// Small enough that a slow link shows progress well within any sensible timeout (0.7 s at 100 KB/s),
    /// large enough to cost nothing: NIO writes many slices in one `writev`.
    static let slice = 64 << 10

    private let timeout: TimeAmount
    /// Between a request's head and its answer's end: the time when nothing moves counts.
    private var busy = false
    /// This handler closed the connection for idleness.
    private var expired = false
    /// Part of the answer was handed up and the client has not asked for more since: it holds reads back
    /// because its reader (say, a restore's psql) is busy. Waiting is then the reader's, not the link's,
    /// and does not count. (False until an answer arrives: the first read may pass before this handler is
    /// in the pipeline.)
    private var readsHeldBack = false
    /// The request's end left NIO: from then on only the answer can move.
    private var requestSent = false
    private var lastProgress = NIODeadline.now()
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            busy = true
            requestSent = false
            progress()
            schedule(context)
            context.write(data, promise: promise)
        case .body(.byteBuffer(var buffer)) where buffer.readableBytes > Self.slice:
            while buffer.readableBytes > Self.slice, let piece = buffer.readSlice(length: Self.slice) {
                context.write(wrapOutboundOut(.body(.byteBuffer(piece))), promise: observed(nil, context))
            }
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: observed(promise, context))
        case .body:
            context.write(data, promise: observed(promise, context))
        case .end:
            context.write(data, promise: observed(promise, context, end: true))
        }
    }

    func read(context: ChannelHandlerContext) {
        readsHeldBack = false
        context.read()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Until the client asks again: at once (autoRead), unless its reader holds it back.
        readsHeldBack = true
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        progress()
        if case .end = unwrapInboundIn(data) { idle() }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        idle()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idle()
    }

    /// A promise for the write that `promise` is for: progress when the write leaves NIO; when it fails
    /// because this handler closed the connection, `promise` fails with the timeout. (The client fails a
    /// request with the first error it sees, and a write that fails on close comes first.)
    private func observed(_ promise: EventLoopPromise<Void>?,
                          _ context: ChannelHandlerContext, end: Bool = false) -> EventLoopPromise<Void> {
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                self.progress()
                if end { self.requestSent = true }
                promise?.succeed()
            case .failure(let error):
                promise?.fail(self.expired ? S3IdleTimeout(timeout: self.timeout) : error)
            }
        }
        return written
    }

    private func progress() {
        lastProgress = .now()
    }

    private func idle() {
        busy = false
        check?.cancel()
        check = nil
    }

    private func schedule(_ context: ChannelHandlerContext) {
        guard check == nil else { return }
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastProgress + timeout) {
            self.expire(context)
        }
    }

    /// The check came due: fails the request if nothing moved since, else waits for the new deadline.
    private func expire(_ context: ChannelHandlerContext) {
        check = nil
        guard busy else { return }
        guard NIODeadline.now() >= lastProgress + timeout else { return schedule(context) }
        // The answer waits on the client's reader, not on the link: the reader's time is not idleness.
        guard !(readsHeldBack && requestSent) else {
            progress()
            return schedule(context)
        }
        idle()
        expired = true
        // The client's handler fails the request with this error; the connection, mid-request, is closed.
        context.fireErrorCaught(S3IdleTimeout(timeout: timeout))
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension S3IdleTimeoutHandler: Sendable {}
