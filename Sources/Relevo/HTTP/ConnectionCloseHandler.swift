import DequeModule
import NIOCore
import NIOHTTP1

/// Marks every request that does not keep its connection alive with `Connection: close`, and its
/// response too, so that the connection is closed right after the answer (RFC 9112 §9.3, §9.6).
///
/// Hummingbird closes a connection only when a request's `Connection` header is exactly `close`,
/// and the HTTP version is gone by the time it looks: an HTTP/1.0 request without `keep-alive`,
/// or a `Connection: Close`, would leave the connection open until the idle timeout. This handler
/// sits right after NIO's request decoder, where the version is still known, and rewrites the header
/// to the one form Hummingbird reads. Requests may be pipelined, so each response takes the verdict of
/// the oldest request not yet answered.
final class ConnectionCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Whether each request not yet answered keeps the connection alive, oldest first.
    private var keepAlive = Deque<Bool>()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        let keeps = Self.keepsAlive(head)
        keepAlive.append(keeps)
        if !keeps { head.headers.replaceOrAdd(name: "connection", value: "close") }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// RFC 9112 §9.3: a `close` option ends the connection whatever else is listed (NIO's
    /// `isKeepAlive` lets an HTTP/1.0 `keep-alive` win); otherwise HTTP/1.1 persists and HTTP/1.0
    /// persists only when it lists `keep-alive`.
    static func keepsAlive(_ head: HTTPRequestHead) -> Bool {
        let options = head.headers[canonicalForm: "connection"].map { $0.lowercased() }
        if options.contains("close") { return false }
        return (head.version.major, head.version.minor) >= (1, 1) || options.contains("keep-alive")
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), head.status.code >= 200 else {
            return context.write(data, promise: promise)
        }
        if keepAlive.popFirst() == false { head.headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}
