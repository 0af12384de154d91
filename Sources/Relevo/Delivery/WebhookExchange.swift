import NIOCore
import NIOHTTP1
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

/// One POST on one connection of ``WebhookClient``, and the handler that runs it on the event loop.
///
/// The handler sits at the end of an HTTP/1.1 client pipeline and runs one exchange at a time: it
/// writes the request, keeps the status, the headers and the first bytes of the body, and answers
/// the exchange's promise once — with the response, or with the first thing that went wrong (the
/// deadline, the connection closing, a parse or TLS error). A connection that can carry another
/// request afterwards is handed back through `reusable` before the promise is answered.
struct WebhookExchange: Sendable {
    /// The whole request, head and body (``RequestBytes``).
    let request: ByteBuffer
    let deadline: NIODeadline
    let promise: EventLoopPromise<WebhookResponse>
}

/// What came back: the status, the headers and at most ``WebhookClient/keptBodyBytes`` of the body.
package struct WebhookResponse: Sendable {
    package let status: Int
    package let headers: HTTPHeaders
    package let body: ByteBuffer
}

/// Failures the client itself detects (NIO's own errors pass through unchanged).
package enum WebhookClientError: Error, Equatable {
    /// The deadline passed before the whole answer was in.
    case timeout
    /// The peer closed the connection before any answer came.
    case closedBeforeAnswer
    /// The peer closed the connection in the middle of its answer.
    case closedDuringAnswer
    /// The client is shut down.
    case shutDown
    /// The host has no address.
    case unresolvable
    /// The host resolves to an address the address rule forbids.
    case blockedAddress
    /// An answer that is not a webhook's (`101 Switching Protocols`).
    case invalidAnswer
    /// A header that cannot be sent as given (a credential with a line break): nothing was sent.
    case invalidRequestHeader
}

final class WebhookExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = WebhookExchange
    typealias OutboundOut = HTTPClientRequestPart

    /// Bodies longer than this are not read to the end: the connection is closed instead of drained.
    static let drainLimit = 1 << 20

    private struct Current {
        let promise: EventLoopPromise<WebhookResponse>
        let deadline: NIODeadline
        var head: HTTPResponseHead?
        var body = ByteBuffer()
        var bodyBytes = 0
    }

    private var current: Current?
    /// One timer per connection, not per exchange (a timer per POST would cost an allocation and two
    /// heap updates of the event loop, for deadlines that almost never pass): due at the deadline of
    /// the exchange that armed it, it outlives that exchange; when it fires it ends the exchange in
    /// flight if that one is due, or moves on to its deadline.
    private var timer: (due: NIODeadline, task: Scheduled<Void>)?
    private let keptBodyBytes: Int
    /// Called on the event loop when the connection is free for another exchange.
    private let reusable: (Channel) -> Void

    init(keptBodyBytes: Int, reusable: @escaping (Channel) -> Void) {
        self.keptBodyBytes = keptBodyBytes
        self.reusable = reusable
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard current == nil, context.channel.isActive else {
            // Never handed out while busy; a connection that closed while idle fails the exchange
            // before any byte left, so the client can safely try a fresh one.
            exchange.promise.fail(WebhookClientError.closedBeforeAnswer)
            promise?.fail(WebhookClientError.closedBeforeAnswer)
            return
        }
        current = Current(promise: exchange.promise, deadline: exchange.deadline)
        armTimer(context, for: exchange.deadline)
        // The head tells NIO's response decoder a POST is under way (it expects one answer per
        // request head); ``RequestBytes/Passthrough`` drops it, the bytes carry the request.
        context.write(wrapOutboundOut(.head(RequestBytes.postHead)), promise: nil)
        // A write that fails (EPIPE: the peer dropped the connection as it was reused) ends the
        // exchange here, before the write's own error could reach the client as the answer.
        // (The caller's own promise when it gave one: the client always does.)
        let written = promise ?? context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenFailure { error in
            let closed = Self.isClose(error, channelClosed: true)
            self.finish(context, with: .failure(closed ? WebhookClientError.closedBeforeAnswer : error), keepConnection: false)
        }
        context.write(wrapOutboundOut(.body(.byteBuffer(exchange.request))), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard current != nil else {
            context.close(promise: nil)  // bytes nobody asked for: this connection's framing can't be trusted any more
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // (NIO's decoder drops 100 Continue and 103 Early Hints; 101 would end HTTP on this connection.)
            guard head.status != .switchingProtocols else {
                return finish(context, with: .failure(WebhookClientError.invalidAnswer), keepConnection: false)
            }
            current?.head = head
        case .body(var part):
            current?.bodyBytes += part.readableBytes
            let room = keptBodyBytes - (current?.body.readableBytes ?? 0)
            if room > 0, var kept = part.readSlice(length: min(room, part.readableBytes)) { current?.body.writeBuffer(&kept) }
            if let current, current.bodyBytes > Self.drainLimit, let head = current.head {
                finish(context, with: .success(Self.response(head, current.body)), keepConnection: false)
            }
        case .end:
            guard let head = current?.head else { return }
            finish(context, with: .success(Self.response(head, current?.body ?? ByteBuffer())), keepConnection: head.isKeepAlive)
        }
    }

    /// Makes sure a timer fires by `deadline`.
    private func armTimer(_ context: ChannelHandlerContext, for deadline: NIODeadline) {
        if let timer, timer.due <= deadline { return }
        timer?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.timerFired(context) }
        timer = (deadline, task)
    }

    private func timerFired(_ context: ChannelHandlerContext) {
        timer = nil
        guard let current else { return }
        if current.deadline <= .now() {
            finish(context, with: .failure(WebhookClientError.timeout), keepConnection: false)
        } else {
            armTimer(context, for: current.deadline)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = current?.head == nil ? WebhookClientError.closedBeforeAnswer : .closedDuringAnswer
        finish(context, with: .failure(error), keepConnection: false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let current else {
            context.close(promise: nil)  // an idle connection in error is not handed out again
            return
        }
        // A TLS peer closing without close_notify after its answer began: the decoder ends the
        // answer (or not) when the close reaches it.
        if current.head != nil, case NIOSSLError.uncleanShutdown = error { return }
        let failure =
            Self.isClose(error, channelClosed: !context.channel.isActive)
            ? (current.head == nil ? WebhookClientError.closedBeforeAnswer : .closedDuringAnswer) : error
        finish(context, with: .failure(failure), keepConnection: false)
    }

    /// Errors that mean "the connection is closed": NIO reports them before `channelInactive`, and
    /// fails the writes still pending when it closes.
    private static func isClose(_ error: any Error, channelClosed: Bool) -> Bool {
        switch error {
        case let error as IOError: error.errnoCode == ECONNRESET || error.errnoCode == EPIPE
        case ChannelError.eof, ChannelError.ioOnClosedChannel, NIOSSLError.uncleanShutdown: true
        case is HTTPParserError: channelClosed  // an answer cut short by the close
        default: false
        }
    }

    private static func response(_ head: HTTPResponseHead, _ body: ByteBuffer) -> WebhookResponse {
        WebhookResponse(status: Int(head.status.code), headers: head.headers, body: body)
    }

    /// Answers the exchange in flight (if any, once) and then either frees or closes the connection.
    private func finish(_ context: ChannelHandlerContext, with result: Result<WebhookResponse, any Error>, keepConnection: Bool) {
        guard let done = current else { return }
        current = nil
        if keepConnection && context.channel.isActive { reusable(context.channel) } else { context.close(promise: nil) }
        done.promise.completeWith(result)
    }
}
