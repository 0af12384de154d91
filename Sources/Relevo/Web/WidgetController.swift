import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The web chat's public side: the script a site embeds, the frame it opens, and the visitor API
/// the frame calls (a visitor token, the live transcript, messages, "talk to a person").
///
/// The site's page only loads `widget.js`, which asks `config` whether its origin may embed the
/// chat (answered with CORS for allowed origins alone) and then opens the frame, served from
/// Relevo's origin with `frame-ancestors` naming that origin: the browser renders it nowhere else,
/// and the page cannot reach into it. Every API call checks its `Origin` (Relevo's own, for the
/// frame, or an allowed one) and its visitor token, which names the origin it was issued for.
///
/// One instance serves the router and every connection's ``TranscriptStreamHandler`` (a class, so
/// that each connection holds a reference rather than a copy).
final class WidgetController: Sendable {
    let webChats: WebChatService
    let transcripts: TranscriptSignal
    let addressLimiter: RateLimiter
    /// Messages and hand-offs per visitor: a person types far slower than this.
    let visitorLimiter = RateLimiter(ratePerSecond: 2, burst: 20)
    /// Open streams whose connection served nothing else (no request loop beside them).
    let streamsOnOwnConnection = Atomic<Int>(0)

    /// The open streams, by whether their connection serves them alone.
    var openStreams: (own: Int, shared: Int) {
        let own = streamsOnOwnConnection.load(ordering: .relaxed)
        return (own, max(0, transcripts.openStreams - own))
    }

    init(webChats: WebChatService, transcripts: TranscriptSignal, addressLimiter: RateLimiter) {
        self.webChats = webChats
        self.transcripts = transcripts
        self.addressLimiter = addressLimiter
    }

    static let loader = ByteBuffer(bytes: PackageResources.widget_js)
    static let frame = ByteBuffer(bytes: PackageResources.chat_html)
    static let script = ByteBuffer(bytes: PackageResources.chat_js)
    static let style = ByteBuffer(bytes: PackageResources.chat_css)

    /// The longest text a visitor may send: the channel API's limit for a text message.
    static let maximumText = MessageValue.maximumTextLength

    func register(in routes: inout RouteTable) {
        routes.open(.get, "webchat/chat.js", asset(Self.script, "text/javascript; charset=utf-8"))
        routes.open(.get, "webchat/chat.css", asset(Self.style, "text/css; charset=utf-8"))
        routes.open(.get, "webchat/:projectId/:botId/widget.js", asset(Self.loader, "text/javascript; charset=utf-8"))
        routes.open(.get, "webchat/:projectId/:botId/frame", frame)
        for path in ["config", "visitor", "stream", "messages", "handoff"] {
            routes.open(.options, "webchat/:projectId/:botId/\(path)", preflight)
        }
        routes.open(.get, "webchat/:projectId/:botId/config", config)
        routes.open(.post, "webchat/:projectId/:botId/visitor", admit)
        routes.open(.get, "webchat/:projectId/:botId/stream", stream)
        routes.open(.post, "webchat/:projectId/:botId/messages", message)
        routes.open(.post, "webchat/:projectId/:botId/handoff", handOff)
    }

    private func asset(_ body: ByteBuffer, _ type: String) -> RouteTable.OpenHandler {
        { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: type, .xContentTypeOptions: "nosniff", .cacheControl: "no-cache",
                    .accessControlAllowOrigin: "*", .crossOriginResourcePolicy: "cross-origin",
                ],
                body: ResponseBody(byteBuffer: body))
        }
    }

    /// The chat frame, for a page of `host` (an allowed origin) to embed; any other host gets a
    /// short page that no site may frame.
    @Sendable func frame(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        let (projectId, botId) = try ids(request, context)
        let host = request.uri.queryParameters.get("host").flatMap(WebOrigin.normalize)
        let chat = try? await webChats.webChat(projectId: projectId, botId: botId)
        guard let chat, let host, chat.admits(origin: host, ownAuthority: request.head.authority) else {
            return Response(
                status: .forbidden,
                headers: [
                    .contentType: "text/plain; charset=utf-8", .contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
                    .xContentTypeOptions: "nosniff",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "This chat is not available on this site.\n")))
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy:
                    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                    + "base-uri 'none'; form-action 'none'; frame-ancestors 'self' \(host)",
                .xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer", .cacheControl: "no-cache",
            ],
            body: ResponseBody(byteBuffer: Self.frame))
    }

    /// Whether a page of the caller's origin may embed the chat, and what the launcher shows.
    @Sendable func config(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        try limitAddress(request.headers, remoteIP: context.remoteIP)
        let (projectId, botId) = try ids(request, context)
        let (chat, bot) = try await webChats.widget(projectId: projectId, botId: botId)
        let cors = try corsOrigin(request.headers, authority: request.head.authority, chat)
        return withCORS(cors, JSONResponse.success("Web chat available", data: .object(Self.shown(chat, bot))))
    }

    /// What the window shows of a web chat: the bot's name, how a conversation starts, the greeting.
    private static func shown(_ chat: WebChat, _ bot: Bot) -> [(key: String, value: JSONValue)] {
        [
            ("botName", .string(bot.name)), ("start", .string(chat.start.rawValue)),
            ("greeting", chat.greeting.map(JSONValue.string) ?? .null),
        ]
    }

    /// A visitor token: `{host, token?, userId?, userHash?, userName?}`.
    @Sendable func admit(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        try limitAddress(request.headers, remoteIP: context.remoteIP)
        let (projectId, botId) = try ids(request, context)
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        let host = fields.requiredString("host", maximum: 256)
        let token = fields.string("token", maximum: 1024)
        let userId = fields.string("userId", maximum: 256)
        let userHash = fields.string("userHash", maximum: 128)
        let userName = fields.string("userName", maximum: 256)
        fields.refuseNul("userName", in: userName)
        if userId != nil, userHash == nil { fields.required("userHash") }
        try fields.check()
        let (chat, _) = try await webChats.widget(projectId: projectId, botId: botId)
        let cors = try corsOrigin(request.headers, authority: request.head.authority, chat)
        guard let origin = host.flatMap(WebOrigin.normalize), cors == nil || cors == origin else { throw DomainError.originNotAllowed }
        let identity = userId.map { WebChatService.Identity(userId: $0, hash: userHash ?? "", name: userName) }
        let admission = try await webChats.admit(
            projectId: projectId, botId: botId, origin: origin, ownAuthority: request.head.authority, token: token, identity: identity)
        let visitor = admission.visitor
        let data: [(key: String, value: JSONValue)] = [
            ("token", .string(admission.token)), ("expiresAt", .string(admission.expiresAt.iso8601)), ("userId", .string(visitor.userId)),
        ]
        return withCORS(cors, JSONResponse.success("Visitor admitted", data: .object(data + Self.shown(visitor.chat, visitor.bot))))
    }

    /// The visitor's transcript as server-sent events, live, resumed after `Last-Event-ID`.
    ///
    /// On a live connection ``TranscriptStreamHandler`` takes these requests before the router
    /// does and serves them on the event loop; this route serves the ones it leaves (a request
    /// pipelined behind another, `HEAD`, the in-process router) from the request's task.
    @Sendable func stream(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        let (projectId, botId) = (context.parameters.get("projectId"), context.parameters.get("botId"))
        let (stream, headers) = try await openStream(
            projectId: projectId, botId: botId, headers: request.headers, authority: request.head.authority, remoteIP: context.remoteIP)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in try await stream.run(&writer) })
    }

    /// A stream for the request, with its response's headers, or the error that refuses it. The
    /// ids are the path's segments as sent.
    func openStream(
        projectId: String?, botId: String?, headers: HTTPFields, authority: String?, remoteIP: String?
    ) async throws -> (TranscriptStream, HTTPFields) {
        try limitAddress(headers, remoteIP: remoteIP)
        let ids = (try PathParameter.identifier("projectId", segment: projectId), try PathParameter.identifier("botId", segment: botId))
        let visitor = try await visitor(ids, headers, authority: authority)
        let cors = try corsOrigin(headers, authority: authority, visitor.chat)
        let resume = headers[.lastEventID].flatMap(TranscriptStream.Position.init(eventId:))
        var fields: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", .xAccelBuffering: "no",
        ]
        if let cors {
            fields[.accessControlAllowOrigin] = cors
            fields[.vary] = "Origin"
        }
        return (TranscriptStream(webChats: webChats, transcripts: transcripts, visitor: visitor, resume: resume), fields)
    }

    /// A visitor's message: `{id, text, pageUrl?, language?}`; a resend with the same id is not recorded twice.
    @Sendable func message(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        try limitAddress(request.headers, remoteIP: context.remoteIP)
        let visitor = try await visitor(try ids(request, context), request.headers, authority: request.head.authority)
        let cors = try corsOrigin(request.headers, authority: request.head.authority, visitor.chat)
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        let id = fields.identifier("id")
        let text = fields.requiredString("text", maximum: Self.maximumText)
        fields.refuseNul("text", in: text)
        let page = readPage(fields)
        guard let id, let text else { throw DomainError.invalidFields(fields.problems) }
        try fields.check()
        try limitVisitor(visitor)
        try await webChats.send(visitor, id: id, text: text, page: page)
        return withCORS(cors, JSONResponse.success("Message received", data: .members(["id": .string(id)])))
    }

    /// "Talk to a person": `{pageUrl?, language?}`.
    @Sendable func handOff(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        try limitAddress(request.headers, remoteIP: context.remoteIP)
        let visitor = try await visitor(try ids(request, context), request.headers, authority: request.head.authority)
        let cors = try corsOrigin(request.headers, authority: request.head.authority, visitor.chat)
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        let page = readPage(fields)
        try fields.check()
        try limitVisitor(visitor)
        try await webChats.handOff(visitor, page: page)
        return withCORS(cors, JSONResponse.success("Conversation requested"))
    }

    /// CORS preflight: answered for allowed origins only.
    @Sendable func preflight(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        let (projectId, botId) = try ids(request, context)
        let (chat, _) = try await webChats.widget(projectId: projectId, botId: botId)
        guard let origin = try corsOrigin(request.headers, authority: request.head.authority, chat) else { return Response(status: .noContent) }
        return Response(
            status: .noContent,
            headers: [
                .accessControlAllowOrigin: origin, .vary: "Origin", .accessControlAllowMethods: "GET, POST",
                .accessControlAllowHeaders: "authorization, content-type, last-event-id", .accessControlMaxAge: "600",
            ])
    }

    private func ids(_ request: Request, _ context: RelevoRequestContext) throws -> (String, String) {
        (try PathParameter.identifier("projectId", request, context), try PathParameter.identifier("botId", request, context))
    }

    private func visitor(
        _ ids: (projectId: String, botId: String), _ headers: HTTPFields, authority: String?
    ) async throws -> WebChatService.Visitor {
        let bearer = headers[.authorization].flatMap { header -> String? in
            header.lowercased().hasPrefix("bearer ") ? String(header.dropFirst(7)).trimmingSpaces : nil
        }
        return try await webChats.visitor(projectId: ids.projectId, botId: ids.botId, token: bearer, ownAuthority: authority)
    }

    private func readPage(_ fields: FieldReader) -> WebChatService.Page {
        let url = fields.string("pageUrl", maximum: 2048)
        let language = fields.string("language", maximum: 35)
        fields.refuseNul("pageUrl", in: url)
        fields.refuseNul("language", in: language)
        return WebChatService.Page(url: url, language: language)
    }

    /// The origin to answer CORS for: nil for a call without `Origin` or from Relevo's own origin
    /// (the frame); an allowed origin as sent; anything else is refused.
    private func corsOrigin(_ headers: HTTPFields, authority: String?, _ chat: WebChat) throws -> String? {
        guard let header = headers[.origin] else { return nil }
        guard let origin = WebOrigin.normalize(header) else { throw DomainError.originNotAllowed }
        if let authority = authority?.lowercased(), origin.hasSuffix("://" + authority) { return nil }
        guard chat.allows(origin: origin) else { throw DomainError.originNotAllowed }
        return origin
    }

    private func withCORS(_ origin: String?, _ response: Response) -> Response {
        guard let origin else { return response }
        var response = response
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.vary] = "Origin"
        return response
    }

    private func limitAddress(_ headers: HTTPFields, remoteIP: String?) throws {
        guard let address = Self.clientAddress(peer: remoteIP, forwardedFor: headers[.xForwardedFor]) else { return }
        if let wait = addressLimiter.acquire(address) { throw RequestError.rateLimited(retryAfterSeconds: wait, budget: .webChat) }
    }

    /// Whose budget a call spends: the peer's address, or, when the peer is a proxy on this machine
    /// or a private network, the last address of `X-Forwarded-For` (the one that proxy added; what
    /// a client wrote before it is not trusted).
    static func clientAddress(peer: String?, forwardedFor: String?) -> String? {
        guard let peer else { return nil }
        guard let forwardedFor, let range = IPAddress(peer)?.forbiddenRange, ["loopback", "private", "CGNAT", "link-local"].contains(range),
            let last = forwardedFor.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), IPAddress(last) != nil
        else { return peer }
        return last
    }

    private func limitVisitor(_ visitor: WebChatService.Visitor) throws {
        let key = "\(visitor.chat.projectId)/\(visitor.bot.id)/\(visitor.userId)"
        if let wait = visitorLimiter.acquire(key) { throw RequestError.rateLimited(retryAfterSeconds: wait, budget: .webChat) }
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xAccelBuffering = HTTPField.Name("X-Accel-Buffering")!
    static let crossOriginResourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!
}

extension String {
    /// Without leading and trailing spaces.
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
