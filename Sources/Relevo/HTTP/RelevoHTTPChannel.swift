import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1.1 channel with two handlers of Relevo's: ``ConnectionCloseHandler`` after
/// the request decoder, so that a request that does not keep its connection alive gets it closed
/// after its answer, and ``TranscriptStreamHandler`` in front of the router, serving the web chat's
/// live transcripts on the event loop.
struct RelevoHTTPChannel: ServerChildChannel {
    let base: HTTP1Channel
    let widget: WidgetController

    /// The server builder for ``RelevoApp``'s application.
    static func builder(_ configuration: HTTP1Channel.Configuration, widget: WidgetController) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            RelevoHTTPChannel(base: HTTP1Channel(responder: responder, configuration: configuration), widget: widget)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(ConnectionCloseHandler(), position: .after(decoder))
            let connectionState = try operations.handler(type: HTTPConnectionStateHandler.self)
            let streams = TranscriptStreamHandler(widget: widget, logger: logger)
            try operations.addHandler(streams.shutdownObserver, position: .before(connectionState))
            try operations.addHandler(streams, position: .after(connectionState))
            return value
        }
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
