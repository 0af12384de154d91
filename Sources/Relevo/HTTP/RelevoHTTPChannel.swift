import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 channel with two handlers of Relevo's: ``ConnectionCloseHandler`` after
/// the request decoder, so that a request that does not keep its connection alive gets it closed
/// after its answer, and ``TranscriptStreamHandler`` in front of the router, serving the web chat's
/// live transcripts on the event loop.
///
/// The pipeline is Hummingbird's (`HTTP1Channel`'s), except that the async channel Hummingbird's
/// request loop reads from is added only once a connection's first request is known, and not at
/// all when that request is a stream that opens: such a connection has no request task, whose
/// memory would otherwise stay with it for the stream's whole life.
struct RelevoHTTPChannel: ServerChildChannel {
    let base: HTTP1Channel
    let widget: WidgetController

    /// A connection, until its first request says whether it needs Hummingbird's request loop.
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        /// True when the first request was a stream that ``TranscriptStreamHandler`` serves alone.
        let streamOnly: EventLoopFuture<Bool>
        let streams: NIOLoopBound<TranscriptStreamHandler>
    }

    /// The server builder for ``RelevoApp``'s application.
    static func builder(_ configuration: HTTP1Channel.Configuration, widget: WidgetController) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            RelevoHTTPChannel(base: HTTP1Channel(responder: responder, configuration: configuration), widget: widget)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let configuration = base.configuration
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
            limits.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
            limits.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
            let operations = channel.pipeline.syncOperations
            try operations.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(ConnectionCloseHandler(), position: .after(decoder))
            try operations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            let firstRequest = channel.eventLoop.makePromise(of: Bool.self)
            let streams = TranscriptStreamHandler(widget: widget, logger: logger, firstRequest: firstRequest)
            try operations.addHandler(streams.shutdownObserver)
            try operations.addHandler(HTTPConnectionStateHandler(idleTimeout: configuration.idleTimeout.map { .init($0) }, logger: logger))
            try operations.addHandler(streams)
            return Value(
                channel: channel, streamOnly: firstRequest.futureResult, streams: NIOLoopBound(streams, eventLoop: channel.eventLoop))
        }
    }

    /// Hummingbird's request loop, from the first request on; none for a stream-only connection.
    func handle(value: Value, logger: Logger) async {
        guard (try? await value.streamOnly.get()) == false else { return }
        let channel = value.channel
        let requests = try? await channel.eventLoop.submit {
            let requests = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
            value.streams.value.requestLoopStarted()
            return requests
        }.get()
        guard let requests else { return }
        await base.handle(value: requests, logger: logger)
    }
}
