import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A real TCP server on loopback that answers HTTP requests with raw bytes the test writes, one
/// scripted reaction per request — for what a well-behaved HTTP server won't do: hang, close
/// without answering, answer with a huge body or an interim `100 Continue`, drop an idle connection.
final class ScriptedHTTPServer: Sendable {
    enum Reaction: Sendable {
        /// Writes these bytes (a whole HTTP response) and keeps the connection open.
        case answer(String)
        /// Writes these bytes, then closes the connection.
        case answerAndClose(String)
        /// Closes the connection without answering.
        case close
        /// Never answers.
        case hang
        /// Writes these bytes after a while, keeping the connection open.
        case answerLater(String, after: TimeAmount)
    }

    /// A complete response with `body` and the headers a normal server sends.
    static func ok(_ body: String = "{\"ok\":true}", status: String = "200 OK", extraHeaders: String = "") -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(extraHeaders)\r\n\(body)"
    }

    /// What the connections share: the script and the counts.
    private final class Book: Sendable {
        struct State {
            var script: [Reaction] = []
            var connections = 0
            var closed = 0
            var requests = 0
        }

        let state: Mutex<State>
        init(script: [Reaction]) { state = Mutex(State(script: script)) }
    }

    private let book: Book
    private let channel: any Channel

    var port: Int { channel.localAddress?.port ?? 0 }
    var url: String { "\(secure ? "https" : "http")://\(host):\(port)/hook" }
    private let host: String
    private let secure: Bool
    var connections: Int { book.state.withLock { $0.connections } }
    var requests: Int { book.state.withLock { $0.requests } }
    /// Connections that ended (either side closing).
    var closedConnections: Int { book.state.withLock { $0.closed } }

    /// With `tls`, the server speaks HTTPS; it listens on `host` (any 127.x.y.z on Linux).
    init(script: [Reaction], tls: NIOSSLContext? = nil, host: String = "127.0.0.1") async throws {
        let book = Book(script: script)
        self.book = book
        self.host = host
        secure = tls != nil
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                book.state.withLock { $0.connections += 1 }
                return child.eventLoop.makeCompletedFuture {
                    if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try child.pipeline.syncOperations.addHandler(
                        RequestReader(
                            next: {
                                book.state.withLock { state in
                                    state.requests += 1
                                    return state.script.isEmpty ? .answer(Self.ok()) : state.script.removeFirst()
                                }
                            }, ended: { book.state.withLock { $0.closed += 1 } }))
                }
            }
            .bind(host: host, port: 0).get()
    }

    func stop() async { try? await channel.close() }

    /// Collects one request (head and `Content-Length` body), then reacts as scripted.
    private final class RequestReader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private var pending = ""
        private let next: () -> Reaction
        private let ended: () -> Void

        init(next: @escaping () -> Reaction, ended: @escaping () -> Void) {
            self.next = next
            self.ended = ended
        }

        func channelInactive(context: ChannelHandlerContext) {
            ended()
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += String(buffer: unwrapInboundIn(data))
            while let end = pending.range(of: "\r\n\r\n") {
                let head = pending[..<end.lowerBound].lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                let bodyStart = end.upperBound
                guard pending.utf8.distance(from: bodyStart, to: pending.endIndex) >= length else { return }
                pending = String(pending.utf8[pending.utf8.index(bodyStart, offsetBy: length)...])!
                switch next() {
                case .answer(let bytes):
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: bytes)), promise: nil)
                case .answerAndClose(let bytes):
                    let closing = context.channel
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: bytes))).whenComplete { _ in closing.close(promise: nil) }
                case .close:
                    context.close(promise: nil)
                case .hang:
                    break
                case .answerLater(let bytes, let delay):
                    let channel = context.channel
                    context.eventLoop.scheduleTask(in: delay) { channel.writeAndFlush(ByteBuffer(string: bytes), promise: nil) }
                }
            }
        }
    }
}
