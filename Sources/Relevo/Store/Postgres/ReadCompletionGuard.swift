import NIOCore
import NIOSSL
import PostgresNIO

/// Keeps a server that ends a connection in the middle of a result from stopping Relevo.
///
/// postgres-nio (1.33.2, the version this package resolves) holds reads back while a result's
/// reader has not asked for more rows. When the server then closes the connection (an immediate
/// shutdown, `pg_terminate_backend`), NIO delivers the bytes left on the socket without a read and
/// ends them with a `channelReadComplete`, which the library's row stream deems impossible and
/// answers with a `fatalError` (`RowStreamStateMachine.channelReadComplete`).
///
/// In front of postgres-nio's handler, this handler passes on a `channelReadComplete` only when the
/// bytes before it came from a read that was asked for, as NIO does outside that closing path. The
/// rows of an unasked read still reach the library, which keeps them for the reader, and the close
/// that follows fails the statement as a lost connection.
final class ReadCompletionGuard: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    /// A read was asked for and no bytes have come since. Assumed at first: the guard joins a
    /// connection that is already reading.
    private var readPending = true
    /// The bytes of the current read cycle answer a read that was asked for.
    private var cycleAsked = false

    func read(context: ChannelHandlerContext) {
        readPending = true
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if readPending {
            readPending = false
            cycleAsked = true
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard cycleAsked else { return }
        cycleAsked = false
        context.fireChannelReadComplete()
    }

    /// Puts a guard in front of postgres-nio's handler on `connection`, unless it has one: first in
    /// the pipeline, or right after the TLS handler, which reads and ends reads of its own. postgres-nio
    /// does not publish a connection's channel, so it is found by name: should a later version rename
    /// it, `PostgresOperationsTests` fails on the crash this guard prevents.
    static func install(on connection: PostgresConnection) async {
        guard let channel = Mirror(reflecting: connection).descendant("channel") as? any Channel else { return }
        try? await channel.eventLoop.submit {
            let handlers = channel.pipeline.syncOperations
            guard (try? handlers.handler(type: ReadCompletionGuard.self)) == nil else { return }
            if let tls = try? handlers.handler(type: NIOSSLClientHandler.self) {
                try handlers.addHandler(ReadCompletionGuard(), position: .after(tls))
            } else {
                try handlers.addHandler(ReadCompletionGuard(), position: .first)
            }
        }.get()
    }
}
