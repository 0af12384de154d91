import DequeModule
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Serves the web chat's live transcripts (`GET /webchat/{projectId}/{botId}/stream`) on the
/// connection's event loop instead of in a request task.
///
/// A task serving a request keeps the memory of its deepest call chain (Hummingbird's connection
/// loop, the middleware, the router, the handler) for as long as it lives, and a stream lives for
/// hours: with thousands of idle visitors that is most of what they cost. This handler takes those
/// requests before the router sees them. It opens the stream in a short task, with the route's own
/// checks (``WidgetController/openStream(projectId:botId:headers:authority:remoteIP:)``) and errors,
/// then answers on the event loop: a short task for each look at the transcript, a callback for the
/// room's changes, a timer for heartbeats. Every other request passes through untouched, and so
/// does a stream request pipelined behind one the router has not answered yet (the route serves it).
///
/// It sits after Hummingbird's connection-state handler, which sees the request in progress and so
/// neither closes the connection as idle nor leaves it open at shutdown before the stream ended.
///
/// A connection's request loop (Hummingbird's, in a task) starts only once its first request is
/// known (``firstRequest``, ``RelevoHTTPChannel``): when that request is a stream that opens, no
/// loop is started at all, and the connection is this handler's until it closes. A stream opened on
/// a connection that already served other requests leaves that connection's loop waiting beside it.
final class TranscriptStreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase { case passing, opening, streaming }

    private let widget: WidgetController
    private let logger: Logger
    /// Whether the connection's first request was a stream that opened (then no request task is
    /// needed); completed once, at the latest when the connection closes.
    private var firstRequest: EventLoopPromise<Bool>?
    private var context: ChannelHandlerContext?
    private var phase = Phase.passing
    /// No request loop serves this connection: it closes when its stream ends.
    private var detached = false
    /// The request loop is not reading yet: parts of other requests wait in ``held``.
    private var loopPending = true
    /// Requests passed to the router and not answered yet: a stream request behind one goes there too.
    private var unanswered = 0
    /// The rest of a taken request (its body) is dropped.
    private var skippingBody = false
    /// Parts of requests that wait: for the request loop to start, or behind a taken request.
    private var held = Deque<HTTPRequestPart>()
    /// Whether the taken request asked for the connection to close after its answer.
    private var closeAfter = false
    private var quiescing = false
    private var started = ContinuousClock.now
    private var path = ""
    /// The stream being served, once open.
    private var serving: Serving?

    /// An open stream: what it has sent, and when it looks next.
    private final class Serving {
        let stream: TranscriptStream
        var state: TranscriptStream.State
        var looking = false
        /// The room changed (or the connection became writable again) during a look: look once more.
        var lookAgain = false
        var timer: Scheduled<Void>?

        init(_ stream: TranscriptStream) {
            self.stream = stream
            state = TranscriptStream.State(resume: stream.resume)
        }
    }

    init(widget: WidgetController, logger: Logger, firstRequest: EventLoopPromise<Bool>) {
        self.widget = widget
        self.logger = logger
        self.firstRequest = firstRequest
    }

    /// A handler that tells this one when the server starts shutting down, for the place before the
    /// connection-state handler (which keeps that event to itself).
    var shutdownObserver: ShutdownObserver { ShutdownObserver(handler: self) }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
        decide(false)
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        decide(false)
        phase = .passing  // an opening stream's answer finds nobody to answer
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        read(unwrapInboundIn(data), context: context)
    }

    private func read(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        if skippingBody {
            if case .end = part { skippingBody = false }
            return
        }
        guard phase == .passing, !detached else { return hold(part, context: context) }
        if case .head(let head) = part {
            if unanswered == 0, held.isEmpty, let ids = Self.streamIds(head) { return open(head, ids, context: context) }
            unanswered += 1
            decide(false)
        }
        guard !loopPending else { return hold(part, context: context) }
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// Keeps a part for later. A request sent behind an open stream could only be answered once the
    /// stream ends, which it does not; a peer that keeps sending anyway loses the connection rather
    /// than filling this instance's memory.
    private func hold(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        guard held.count < Self.maximumHeld, phase != .streaming else {
            stop()
            return context.close(promise: nil)
        }
        held.append(part)
    }

    /// Parts of pipelined requests kept while a stream opens or the request loop starts.
    static let maximumHeld = 64

    /// Starts the connection's request loop, or tells it that none is needed.
    private func decide(_ streamOnly: Bool) {
        firstRequest?.succeed(streamOnly)
        firstRequest = nil
    }

    /// The request loop reads from now on: what waited for it is passed on.
    func requestLoopStarted() {
        loopPending = false
        guard let context else { return }
        while !loopPending, phase == .passing, !held.isEmpty { context.fireChannelRead(wrapInboundOut(held.removeFirst())) }
        context.fireChannelReadComplete()  // the async channel hands reads over at the end of a read
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unanswered -= 1 }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let serving, serving.lookAgain, !serving.looking { look() }
        context.fireChannelWritabilityChanged()
    }

    /// The ids of a stream request's path, as sent; nil for any other request.
    static func streamIds(_ head: HTTPRequest) -> (projectId: String, botId: String)? {
        guard head.method == .get, let target = head.path else { return nil }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == 5, segments[0].isEmpty, segments[1] == "webchat", segments[4] == "stream",
            !segments[2].isEmpty, !segments[3].isEmpty
        else { return nil }
        return (String(segments[2]), String(segments[3]))
    }

    // MARK: Opening

    private func open(_ head: HTTPRequest, _ ids: (projectId: String, botId: String), context: ChannelHandlerContext) {
        (phase, skippingBody, started) = (.opening, true, .now)
        path = String((head.path ?? "").prefix(512))
        // ConnectionCloseHandler wrote every request's verdict in this one form.
        closeAfter = head.headerFields[.connection] == "close"
        let widget = widget, remoteIP = context.channel.remoteAddress?.ipAddress
        let loop = context.eventLoop, handler = NIOLoopBound(self, eventLoop: loop)
        Task {
            let opened: Result<(TranscriptStream, HTTPFields), any Error>
            do {
                opened = .success(
                    try await widget.openStream(
                        projectId: ids.projectId, botId: ids.botId, headers: head.headerFields, authority: head.authority,
                        remoteIP: remoteIP))
            } catch {
                opened = .failure(error)
            }
            loop.execute { handler.value.opened(opened) }
        }
    }

    private func opened(_ result: Result<(TranscriptStream, HTTPFields), any Error>) {
        guard phase == .opening, let context else { return }
        guard !quiescing else { return context.close(promise: nil) }
        switch result {
        case .failure(let error):
            let envelope = ErrorMiddleware.envelope(for: error, method: .get, path: path, logger: logger)
            let body = CanonicalJSONWriter.bytes(envelope.json)
            var fields = envelope.headers
            fields[.contentType] = JSONResponse.contentType
            fields[.contentLength] = String(body.count)
            context.write(wrapOutboundOut(.head(HTTPResponse(status: envelope.status, headerFields: Self.common(fields)))), promise: nil)
            context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
            logAccess(envelope.status)
            finish(context)
        case .success(let (stream, fields)):
            context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: Self.common(fields)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(ByteBuffer(string: TranscriptStream.opening))), promise: nil)
            logAccess(.ok)
            phase = .streaming
            serving = Serving(stream)
            if firstRequest != nil {
                detached = true
                held.removeAll()  // nobody would answer them: the connection closes when the stream ends
                decide(true)
                widget.streamsOnOwnConnection.add(1, ordering: .relaxed)
            }
            let loop = context.eventLoop, handler = NIOLoopBound(self, eventLoop: loop)
            widget.transcripts.subscribe(ObjectIdentifier(self), to: stream.key) {
                loop.execute { handler.value.look() }
            }
            look()
        }
    }

    /// Hummingbird's own response fields: the date (RFC 9110 §6.6.1) and the server's name.
    private static func common(_ fields: HTTPFields) -> HTTPFields {
        var fields = fields
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        fields[.date] = formatter.string(from: Date())
        fields[.server] = "Relevo"
        return fields
    }

    private func logAccess(_ status: HTTPResponse.Status) {
        guard logger.logLevel <= .debug else { return }
        ErrorMiddleware.logAccess(logger, .get, path, status, since: started)
    }

    // MARK: Streaming

    /// Reads what is new in a short task, unless a look is running (it looks again after) or the
    /// peer is not reading (it looks once the connection is writable again).
    private func look() {
        guard let serving, let context else { return }
        guard !serving.looking, context.channel.isWritable else {
            serving.lookAgain = true
            return
        }
        (serving.looking, serving.lookAgain) = (true, false)
        serving.timer?.cancel()
        serving.timer = nil
        let (stream, state, looker) = (serving.stream, serving.state, ObjectIdentifier(serving))
        let loop = context.eventLoop, handler = NIOLoopBound(self, eventLoop: loop)
        Task {
            var state = state
            let outcome: Result<(TranscriptStream.State, String, TranscriptStream.Next), any Error>
            do {
                let (text, next) = try await stream.look(&state)
                outcome = .success((state, text, next))
            } catch {
                outcome = .failure(error)
            }
            loop.execute { handler.value.looked(outcome, for: looker) }
        }
    }

    private func looked(
        _ outcome: Result<(TranscriptStream.State, String, TranscriptStream.Next), any Error>, for looker: ObjectIdentifier
    ) {
        guard let serving, ObjectIdentifier(serving) == looker, let context else { return }
        serving.looking = false
        switch outcome {
        case .failure(let error):
            // The store failed: the connection closes and the widget reconnects where it was.
            logger.warning("web chat stream failed", metadata: ["error_type": .string(String(describing: type(of: error)))])
            stop()
            context.close(promise: nil)
        case .success(let (state, text, next)):
            serving.state = state
            if !text.isEmpty { context.writeAndFlush(wrapOutboundOut(.body(ByteBuffer(string: text))), promise: nil) }
            if next == .end || quiescing { return end(context) }
            if serving.lookAgain { return look() }
            wait(next, context: context)
        }
    }

    /// Arms the timer for the next look (a conversation waiting for the panel) or heartbeat.
    private func wait(_ next: TranscriptStream.Next, context: ChannelHandlerContext) {
        guard let serving else { return }
        let checking = next == .panelCheck
        let delay = checking ? TranscriptStream.panelCheck : TranscriptStream.heartbeat
        serving.timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { [self] in
            serving.timer = nil
            guard self.serving === serving else { return }
            if checking { return look() }
            if context.channel.isWritable {
                context.writeAndFlush(wrapOutboundOut(.body(ByteBuffer(string: TranscriptStream.heartbeatLine))), promise: nil)
            }
            wait(.change, context: context)
        }
    }

    /// The server is shutting down: an open stream ends now, one being opened is not answered.
    fileprivate func quiesce() {
        quiescing = true
        guard let serving, !serving.looking, let context else { return }
        end(context)
    }

    /// Ends the stream's response.
    private func end(_ context: ChannelHandlerContext) {
        stop()
        finish(context)
    }

    /// After a taken request's answer: closes the connection when asked to (or when no request loop
    /// serves it), else goes on with what came meanwhile.
    private func finish(_ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        phase = .passing
        if closeAfter || quiescing || detached { return context.close(promise: nil) }
        let waiting = held
        held.removeAll()
        for part in waiting { read(part, context: context) }
        if !waiting.isEmpty { context.fireChannelReadComplete() }
    }

    /// Lets go of the room and the timer (a look still running is ignored when it ends).
    private func stop() {
        guard let serving else { return }
        if detached { widget.streamsOnOwnConnection.subtract(1, ordering: .relaxed) }
        widget.transcripts.unsubscribe(ObjectIdentifier(self), from: serving.stream.key)
        serving.timer?.cancel()
        self.serving = nil
        phase = .passing
    }
}

/// Passes the server's shutdown to a ``TranscriptStreamHandler`` further down the pipeline.
final class ShutdownObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    private let handler: TranscriptStreamHandler

    fileprivate init(handler: TranscriptStreamHandler) { self.handler = handler }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { handler.quiesce() }
        context.fireUserInboundEventTriggered(event)
    }
}
