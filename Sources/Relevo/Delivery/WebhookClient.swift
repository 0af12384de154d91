import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import ServiceLifecycle
import Synchronization

/// The outbound HTTP/1.1 client: POSTs over kept-alive connections, one pool per scheme, host and port.
///
/// Built on SwiftNIO directly instead of AsyncHTTPClient, whose request validation, per-request
/// task and state machines cost CPU on every POST for features a webhook never uses. What a
/// webhook needs is small: one request at a time per connection, a deadline for the whole
/// exchange, no redirects, no decompression, the first few KiB of the answer.
///
/// The pool has no per-host limit of its own: the dispatcher already bounds the attempts in flight
/// per destination, so at most that many connections are open to one panel. Idle connections are
/// reused newest first; a sweep closes the ones idle for `idleTimeout` and forgets the ones the peer
/// closed. A POST whose reused connection closes
/// before any answer (the peer dropping an idle connection just as it was taken) is sent once more
/// on a new connection, as browsers do; delivery is at-least-once anyway, and `webhook-id` is the
/// same.
///
/// Connections go only to addresses the address rule allows: the client resolves the host itself
/// and connects to exactly the addresses it checked, so a DNS answer that changes between the
/// check and the connection (rebinding, TTL 0) cannot lead it into the operator's network.
///
/// A lifecycle `Service`: while running it closes connections idle for `idleTimeout`; on graceful
/// shutdown, after the dispatcher stopped sending, it closes the rest.
package final class WebhookClient: Service, Sendable {
    /// At most this much of an answer's body is kept (for the attempt log); the rest is read and dropped.
    package static let keptBodyBytes = 4096

    struct Destination: Hashable, Sendable {
        let secure: Bool
        let host: String
        let port: Int
    }

    private struct Idle {
        let channel: any Channel
        let since: NIODeadline
    }

    private struct State {
        var idle: [Destination: [Idle]] = [:]
        var shutDown = false
    }

    private let group: any EventLoopGroup
    private let destinationGuard: DestinationGuard
    private let tls: NIOSSLContext
    private let connectTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let state = Mutex(State())

    /// `tls` defaults to full verification against the system's trust roots.
    package init(
        destinationGuard: DestinationGuard, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tls: TLSConfiguration = .makeClientConfiguration(), connectTimeout: Duration = .seconds(5),
        idleTimeout: Duration = .seconds(30)
    ) throws {
        self.destinationGuard = destinationGuard
        self.group = group
        self.tls = try NIOSSLContext(configuration: tls)
        self.connectTimeout = TimeAmount(connectTimeout)
        self.idleTimeout = TimeAmount(idleTimeout)
    }

    package func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .seconds(5))
                self.closeExpired()
            }
        }
        await shutdown()
    }

    /// Closes the connections idle longer than `idleTimeout`, and forgets the ones the peer closed.
    func closeExpired() {
        let limit = NIODeadline.now() - idleTimeout
        let expired = state.withLock { state in
            var expired: [any Channel] = []
            for (destination, line) in state.idle {
                var kept: [Idle] = []
                for idle in line {
                    if idle.since >= limit && idle.channel.isActive { kept.append(idle) } else { expired.append(idle.channel) }
                }
                state.idle[destination] = kept.isEmpty ? nil : kept
            }
            return expired
        }
        for channel in expired { channel.close(promise: nil) }
    }

    /// Closes every idle connection; later POSTs fail with ``WebhookClientError/shutDown``.
    package func shutdown() async {
        let channels = state.withLock { state in
            state.shutDown = true
            defer { state.idle = [:] }
            return state.idle.values.flatMap { $0.map(\.channel) }
        }
        for channel in channels { try? await channel.close() }
    }

    /// POSTs `body` to `url`; the whole exchange, connecting included, ends by `timeout`.
    /// A header that is not a valid field (a name that is not a token; a value with a control
    /// character, which could end the header early) is refused before anything is sent.
    package func post(_ url: WebhookURL, headers: [(String, String)], body: [UInt8], timeout: Duration) async throws -> WebhookResponse {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let request = try RequestBytes.post(url, headers: headers, body: body)
        let destination = Destination(secure: url.scheme == "https", host: url.host, port: url.port)
        if let channel = try takeIdle(destination) {
            do {
                return try await exchange(on: channel, request: request, deadline: deadline)
            } catch WebhookClientError.closedBeforeAnswer {}
        }
        let channel = try await connect(destination, deadline: deadline)
        return try await exchange(on: channel, request: request, deadline: deadline)
    }

    private func exchange(on channel: any Channel, request: ByteBuffer, deadline: NIODeadline) async throws -> WebhookResponse {
        let promise = channel.eventLoop.makePromise(of: WebhookResponse.self)
        // A channel closed before the write reaches it has no handler left to answer the exchange:
        // the failed write does. The handler answers every other failed write itself.
        channel.writeAndFlush(WebhookExchange(request: request, deadline: deadline, promise: promise)).whenFailure { error in
            if let error = error as? ChannelError, error == .ioOnClosedChannel || error == .alreadyClosed {
                promise.fail(WebhookClientError.closedBeforeAnswer)
            }
        }
        // A cancelled attempt (the end of the shutdown grace) stops waiting at once.
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
            channel.close(promise: nil)
        }
    }

    /// The newest idle connection to `destination` that is still open (the sweep closes the old ones).
    private func takeIdle(_ destination: Destination) throws -> (any Channel)? {
        let (channel, stale) = try state.withLock { state -> ((any Channel)?, [any Channel]) in
            guard !state.shutDown else { throw WebhookClientError.shutDown }
            guard var line = state.idle[destination] else { return (nil, []) }
            var stale: [any Channel] = []
            var found: (any Channel)?
            while found == nil, let last = line.popLast() {
                if last.channel.isActive { found = last.channel } else { stale.append(last.channel) }
            }
            state.idle[destination] = line.isEmpty ? nil : line
            return (found, stale)
        }
        for channel in stale { channel.close(promise: nil) }
        return channel
    }

    /// Called on the connection's event loop when an exchange finished and the connection may be reused.
    private func giveBack(_ channel: any Channel, to destination: Destination) {
        let kept = state.withLock { state in
            guard !state.shutDown else { return false }
            state.idle[destination, default: []].append(Idle(channel: channel, since: .now()))
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    /// Connects to the first of the checked addresses of `destination` that answers, within the deadline.
    private func connect(_ destination: Destination, deadline: NIODeadline) async throws -> any Channel {
        let found = if let literal = IPAddress(destination.host) { [literal] } else { await DestinationGuard.resolve(destination.host) }
        guard !found.isEmpty else { throw WebhookClientError.unresolvable }
        guard destinationGuard.permits(found) else { throw WebhookClientError.blockedAddress }
        var failure: any Error = WebhookClientError.unresolvable
        for address in found {
            do {
                return try await connect(destination, to: address.socketAddress(port: destination.port), deadline: deadline)
            } catch {
                failure = error
                if NIODeadline.now() >= deadline { break }
            }
        }
        throw failure
    }

    private func connect(_ destination: Destination, to address: SocketAddress, deadline: NIODeadline) async throws -> any Channel {
        let tls = destination.secure ? self.tls : nil
        let serverName = IPAddress(destination.host) == nil ? destination.host : nil  // an IP literal is checked against the certificate's IP SANs
        let remaining = deadline - .now()
        guard remaining > .zero else { throw WebhookClientError.timeout }
        let loop = group.next()
        let handshake = loop.makePromise(of: Void.self)
        let connecting = ClientBootstrap(group: loop)
            .connectTimeout(min(connectTimeout, remaining))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        try pipeline.addHandler(HandshakeWaiter(handshake))
                    }
                    // The request is written as bytes (RequestBytes); NIO's decoder reads the answer.
                    try pipeline.addHandler(RequestBytes.Passthrough())
                    try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try pipeline.addHandler(
                        WebhookExchangeHandler(keptBodyBytes: Self.keptBodyBytes) { [weak self] channel in
                            self?.giveBack(channel, to: destination)
                        })
                }
            }
            .connect(to: address)
        connecting.whenFailure { handshake.fail($0) }
        if tls == nil { handshake.succeed() }
        let channel = try await connecting.get()
        let timer = loop.scheduleTask(deadline: deadline) { handshake.fail(WebhookClientError.timeout) }
        defer { timer.cancel() }
        do {
            try await handshake.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return channel
    }

    /// Completes once the TLS handshake is done, so that a refused certificate fails the connection
    /// (error class `tls`) rather than racing the first request on a closing channel.
    private final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        let done: EventLoopPromise<Void>

        init(_ done: EventLoopPromise<Void>) { self.done = done }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event {
                done.succeed()
                context.pipeline.syncOperations.removeHandler(self, promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            done.fail(error)
            context.fireErrorCaught(error)
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.fail(WebhookClientError.closedBeforeAnswer)
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            done.fail(WebhookClientError.closedBeforeAnswer)  // ignored once the handshake succeeded
        }
    }
}
