import Crypto
import Foundation
import HTTPTypes
import Testing

@testable import Relevo

@Suite("Web chat through the API")
struct WebChatAPITests {
    static let site = "https://shop.example"

    /// A project with an integration, bot `web` and its web chat for ``site``; returns the identity secret.
    static func setUp(_ api: APIClient, start: String = "first_message") async throws -> String {
        try await api.createIntegration()
        try await api.call(.post, "/v1/projects/\(api.harness.projectId)/bots", body: #"{"id":"web","name":"Web bot"}"#)
        let saved = try await api.call(
            .put, "/v1/projects/\(api.harness.projectId)/bots/web/webchat",
            body: #"{"allowedOrigins":["https://Shop.example:443/"],"start":"\#(start)","identityVerification":true}"#)
        #expect(saved.status == .ok, "\(saved.text)")
        return try #require(saved.string("data", "identitySecret"))
    }

    static func admit(_ api: APIClient, _ body: String, origin: String? = nil) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let origin { headers[.origin] = origin }
        return try await api.call(.post, "/webchat/\(api.harness.projectId)/web/visitor", body: body, key: .some(nil), headers: headers)
    }

    static func visitorCall(
        _ api: APIClient, _ method: HTTPRequest.Method, _ path: String, token: String, body: String? = nil, origin: String? = nil
    ) async throws -> Reply {
        var headers: HTTPFields = [.authorization: "Bearer " + token]
        if let origin { headers[.origin] = origin }
        return try await api.call(method, "/webchat/\(api.harness.projectId)/web/\(path)", body: body, key: .some(nil), headers: headers)
    }

    @Test func settingsAreValidatedShownAndTheSecretOnlyOnce() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let path = "/v1/projects/\(harness.projectId)/bots/web/webchat"
            #expect(try await api.call(.get, path).errorKey == "WEBCHAT_NOT_FOUND")
            #expect(try await api.call(.put, path, body: #"{"allowedOrigins":["https://a.example"]}"#).errorKey == "BOT_NOT_FOUND")
            try await api.call(.post, "/v1/projects/\(harness.projectId)/bots", body: #"{"id":"web","name":"Web bot"}"#)
            let bad = try await api.call(
                .put, path,
                body: #"{"allowedOrigins":["https://a.example/shop","*",7],"start":"later","agentTimeoutSeconds":2,"greeting":5}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(
                Set(bad.invalidFields)
                    == ["allowedOrigins[0]", "allowedOrigins[1]", "allowedOrigins[2]", "start", "agentTimeoutSeconds", "greeting"], "\(bad.text)")
            #expect(try await api.call(.put, path, body: #"{"greeting":"hi"}"#).invalidFields == ["allowedOrigins"], "a first save needs origins")
            #expect(try await api.call(.get, path).errorKey == "WEBCHAT_NOT_FOUND", "nothing was half-written")

            let saved = try await api.call(
                .put, path, body: #"{"allowedOrigins":["HTTPS://Shop.Example:443","http://localhost:8080"],"greeting":"Hola 👋"}"#)
            #expect(saved.data["allowedOrigins"] == .array(["https://shop.example", "http://localhost:8080"]))
            #expect(saved.data["identitySecret"] == nil && saved.data["identityVerification"] == .bool(false))
            #expect(saved.string("data", "widgetPath") == "/webchat/\(harness.projectId)/web/widget.js")
            let verified = try await api.call(.put, path, body: #"{"identityVerification":true}"#)
            let secret = try #require(verified.string("data", "identitySecret"))
            #expect(secret.count == 64 && verified.string("data", "greeting") == "Hola 👋", "absent fields keep their value")
            let again = try await api.call(.put, path, body: #"{"identityVerification":true,"start":"button"}"#)
            #expect(again.data["identitySecret"] == nil && again.string("data", "start") == "button")
            let read = try await api.call(.get, path)
            #expect(!read.text.contains(secret) && read.data["identityVerification"] == .bool(true))
            let renewed = try await api.call(.post, path + "/identity-secret")
            #expect(renewed.string("data", "identitySecret").map { $0 != secret && $0.count == 64 } == true)
            #expect(!harness.logs.all.contains { $0.contains(secret) })
            #expect(try await api.call(.delete, path).status == .ok)
            #expect(try await api.call(.delete, path).errorKey == "WEBCHAT_NOT_FOUND")
        }
    }

    @Test func visitorsAreAnonymousOrProveTheirIdentity() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let secret = try await Self.setUp(api)
            let other = try await Self.admit(api, #"{"host":"https://evil.example"}"#)
            #expect(other.status == .forbidden && other.errorKey == "ORIGIN_NOT_ALLOWED")
            let first = try await Self.admit(api, #"{"host":"\#(Self.site)"}"#)
            let token = try #require(first.string("data", "token"))
            let visitor = try #require(first.string("data", "userId"))
            #expect(visitor.hasPrefix("visitor_"))
            let renewed = try await Self.admit(api, #"{"host":"\#(Self.site)","token":"\#(token)"}"#)
            #expect(renewed.string("data", "userId") == visitor, "a token still good is the same visitor")
            let elsewhere = try await Self.admit(api, #"{"host":"\#(Self.site)","token":"\#(token.dropLast(4))AAAA"}"#)
            #expect(elsewhere.string("data", "userId") != visitor, "a tampered token is a new visitor, never someone else")

            let hash = HMAC<SHA256>.authenticationCode(for: Array("cust-7".utf8), using: SymmetricKey(data: Array(secret.utf8)))
                .map { String(format: "%02x", $0) }.joined()
            let wrong = try await Self.admit(api, #"{"host":"\#(Self.site)","userId":"cust-7","userHash":"\#(String(repeating: "ab", count: 32))"}"#)
            #expect(wrong.status == .forbidden && wrong.errorKey == "IDENTITY_NOT_VERIFIED")
            let missing = try await Self.admit(api, #"{"host":"\#(Self.site)","userId":"cust-7"}"#)
            #expect(missing.invalidFields == ["userHash"])
            let right = try await Self.admit(
                api, #"{"host":"\#(Self.site)","userId":"cust-7","userHash":"\#(hash.uppercased())","userName":"Carla"}"#)
            #expect(right.string("data", "userId") == "cust-7")
            let user = try await api.call(.get, "/v1/projects/\(harness.projectId)/users/cust-7")
            #expect(user.string("data", "names") == "Carla")

            let stranger = try await Self.visitorCall(
                api, .post, "messages", token: token, body: #"{"id":"m1","text":"hi"}"#, origin: "https://evil.example")
            #expect(stranger.status == .forbidden && stranger.errorKey == "ORIGIN_NOT_ALLOWED")
            let noToken = try await api.call(
                .post, "/webchat/\(harness.projectId)/web/messages", body: #"{"id":"m1","text":"hi"}"#, key: .some(nil))
            #expect(noToken.status == .unauthorized && noToken.errorKey == "VISITOR_UNAUTHORIZED")
            try await api.call(.post, "/v1/projects/\(harness.projectId)/bots", body: #"{"id":"web2","name":"Other"}"#)
            try await api.call(.put, "/v1/projects/\(harness.projectId)/bots/web2/webchat", body: #"{"allowedOrigins":["\#(Self.site)"]}"#)
            let otherBot = try await api.call(
                .post, "/webchat/\(harness.projectId)/web2/messages", body: #"{"id":"m1","text":"hi"}"#, key: .some(nil),
                headers: [.authorization: "Bearer " + token])
            #expect(otherBot.errorKey == "VISITOR_UNAUTHORIZED", "a token opens for its own bot only")

            // CORS: answered for an allowed origin, refused for another.
            let allowed = try await api.call(
                .options, "/webchat/\(harness.projectId)/web/visitor", key: .some(nil), headers: [.origin: Self.site])
            #expect(allowed.status == .noContent && allowed.headers[.accessControlAllowOrigin] == Self.site)
            let refused = try await api.call(
                .options, "/webchat/\(harness.projectId)/web/visitor", key: .some(nil), headers: [.origin: "https://evil.example"])
            #expect(refused.status == .forbidden && refused.headers[.accessControlAllowOrigin] == nil)
            let config = try await api.call(.get, "/webchat/\(harness.projectId)/web/config", key: .some(nil), headers: [.origin: Self.site])
            #expect(config.status == .ok && config.headers[.accessControlAllowOrigin] == Self.site)
        }
    }

    @Test func messagesStartAConversationOnceAndRepliesStayOffTheChannel() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            _ = try await Self.setUp(api)
            try await api.call(
                .patch, "/v1/projects/\(harness.projectId)/bots/web", body: #"{"channelWebhookUrl":"https://93.184.215.14/channel"}"#)
            let token = try #require(try await Self.admit(api, #"{"host":"\#(Self.site)"}"#).string("data", "token"))
            let body = #"{"id":"wm_1","text":"hello","pageUrl":"https://shop.example/cart","language":"es"}"#
            for _ in 0..<2 {
                let sent = try await Self.visitorCall(api, .post, "messages", token: token, body: body)
                #expect(sent.status == .ok && sent.string("data", "id") == "wm_1", "\(sent.text)")
            }
            let base = "/v1/external-support/\(harness.projectId)"
            let events = try await api.call(.get, base + "/events?limit=50").data["events"]
            guard case .array(let list)? = events else { Issue.record("no events"); return }
            #expect(list.compactMap { $0["eventType"]?.stringValue }.sorted() == ["conversation.start", "message"], "a resend is not recorded twice")
            let startId = try #require(list.first { $0["eventType"]?.stringValue == "conversation.start" }?["id"]?.stringValue)
            let start = try await api.call(.get, base + "/events/" + startId)
            #expect(
                start.data["body"]?["metadata"]
                    == .members(["source": "webchat", "origin": .string(Self.site), "pageUrl": "https://shop.example/cart", "language": "es"]))
            let room = try #require(start.data["body"]?["room_id"]?.stringValue)
            let userId = try #require(start.data["body"]?["contact"]?["id"]?.stringValue)

            let replyBody =
                #"{"project_id":"\#(harness.projectId)","field":"messages","object":"message_event","event_type":"incoming_message","room_id":"\#(room)","bot_id":"web","user_id":"\#(userId)","value":{"id":"agent-1","type":"text","content":{"body":"hi!"}}}"#
            let secret = try #require(try await harness.app.integrations.signingSecrets(projectId: harness.projectId)?.first)
            let signature = WebhookSignature.jelou(secret: secret, body: Array(replyBody.utf8))
            let reply = try await api.call(
                .post, "/v1/external-support/webhook", body: replyBody, key: .some(nil), headers: [HTTPField.Name("X-Jelou-Signature")!: signature])
            #expect(reply.status == .ok, "\(reply.text)")
            let closed = try await api.call(
                .post, base + "/conversations/close", body: #"{"botId":"web","userId":"\#(userId)","redirectPayload":{"type":"text","text":"bye"}}"#)
            #expect(closed.status == .ok)
            let after = try await api.call(.get, base + "/events?limit=50")
            #expect(!after.text.contains(#""destination":"channel""#), "a web chat visitor's replies are read by the widget, not sent to the channel")
            let conversation = try await api.call(
                .get, base + "/conversations/" + (start.data["body"]?["conversation"]?["id"]?.stringValue ?? "") + "?include=messages")
            guard case .array(let messages)? = conversation.data["messages"] else { Issue.record("no history"); return }
            #expect(messages.compactMap { $0["id"]?.stringValue }.prefix(2) == ["wm_1", "agent-1"] && messages.count == 3)
        }
    }

    @Test func buttonModeWaitsForAHandOffAndVisitorsHaveABudget() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            _ = try await Self.setUp(api, start: "button")
            let token = try #require(try await Self.admit(api, #"{"host":"\#(Self.site)"}"#).string("data", "token"))
            let early = try await Self.visitorCall(api, .post, "messages", token: token, body: #"{"id":"wm_a","text":"hello"}"#)
            #expect(early.status == .conflict && early.errorKey == "CONVERSATION_NOT_ACTIVE")
            #expect(try await Self.visitorCall(api, .post, "handoff", token: token, body: "{}").status == .ok)
            #expect(try await Self.visitorCall(api, .post, "handoff", token: token, body: "{}").status == .ok, "a second press changes nothing")
            #expect(try await Self.visitorCall(api, .post, "messages", token: token, body: #"{"id":"wm_a","text":"hello"}"#).status == .ok)
            let long = String(repeating: "x", count: 4097)
            let tooLong = try await Self.visitorCall(api, .post, "messages", token: token, body: #"{"id":"wm_b","text":"\#(long)"}"#)
            #expect(tooLong.invalidFields == ["text"])
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<30 {
                statuses.append(try await Self.visitorCall(api, .post, "messages", token: token, body: #"{"id":"wm_r\#(index)","text":"x"}"#).status)
            }
            #expect(statuses.contains(.tooManyRequests) && statuses.prefix(15).allSatisfy { $0 == .ok }, "\(statuses)")
            let conversations = try await api.call(.get, "/v1/external-support/\(harness.projectId)/conversations")
            guard case .array(let list)? = conversations.data["conversations"] else { Issue.record("no list"); return }
            #expect(list.count == 1)
        }
    }
}

@Suite("Web chat client addresses")
struct WebChatClientAddressTests {
    /// A proxy on this machine or a private network speaks for its clients through the last address
    /// it added to `X-Forwarded-For`; a public peer never does, and nothing a client wrote before counts.
    @Test func theLastForwardedAddressCountsOnlyBehindALocalProxy() {
        let address = WidgetController.clientAddress
        #expect(address("203.0.113.9", nil) == "203.0.113.9")
        #expect(address("203.0.113.9", "198.51.100.7") == "203.0.113.9", "a public peer cannot name another address")
        #expect(address("127.0.0.1", "6.6.6.6, 198.51.100.7") == "198.51.100.7")
        #expect(address("10.1.2.3", "198.51.100.7") == "198.51.100.7")
        #expect(address("::1", " 2001:db8::1 ") == "2001:db8::1")
        #expect(address("127.0.0.1", "not an address") == "127.0.0.1")
        #expect(address(nil, "198.51.100.7") == nil)
    }
}

@Suite("Web chat origins and stream positions")
struct WebChatValueTests {
    /// Origins are kept as browsers send `Origin`, so a comparison with the header is exact.
    @Test func originsAreNormalizedAsBrowsersSendThem() {
        #expect(WebOrigin.normalize("HTTPS://Shop.Example:443/") == "https://shop.example")
        #expect(WebOrigin.normalize("http://localhost:8080") == "http://localhost:8080")
        #expect(WebOrigin.normalize("http://127.0.0.1:80") == "http://127.0.0.1")
        #expect(WebOrigin.normalize("https://[2001:db8::1]:8443") == "https://[2001:db8::1]:8443")
        for refused in [
            "https://shop.example/path", "https://*.example", "ftp://shop.example", "https://user@shop.example", "https://shop.example:0",
            "https://shop.example:99999", "shop.example", "https://", "https://shop.example?x=1", "https://shop example",
        ] {
            #expect(WebOrigin.normalize(refused) == nil, "\(refused)")
        }
    }

    /// `Last-Event-ID` reads back only what a stream sent: `<conversation>.<count>` or `<conversation>.end`.
    @Test func streamPositionsReadBackOnlyTheirOwnIds() throws {
        let middle = try #require(TranscriptStream.Position(eventId: "12.3"))
        #expect(middle.sequence == 12 && middle.count == 3 && !middle.closed)
        let end = try #require(TranscriptStream.Position(eventId: "12.end"))
        #expect(end.sequence == 12 && end.closed)
        for foreign in ["", "12", "12.", ".3", "-1.2", "12.-3", "12.3.4", "a.b", "12.END", "99999999999999999999.1"] {
            #expect(TranscriptStream.Position(eventId: foreign) == nil, "\(foreign)")
        }
    }

    /// The stream handler takes `GET /webchat/{p}/{b}/stream` (with or without a query) and leaves
    /// everything else to the router, which answers it with its own rules (404, 405, the route).
    @Test func theStreamHandlerTakesOnlyStreamRequests() {
        func ids(_ method: HTTPRequest.Method, _ path: String) -> [String]? {
            TranscriptStreamHandler.streamIds(HTTPRequest(method: method, scheme: nil, authority: "relevo", path: path)).map { [$0, $1] }
        }
        #expect(ids(.get, "/webchat/p1/web/stream") == ["p1", "web"])
        #expect(ids(.get, "/webchat/p%3A1/web/stream?x=1") == ["p%3A1", "web"])
        for (method, path) in [
            (HTTPRequest.Method.head, "/webchat/p1/web/stream"), (.post, "/webchat/p1/web/stream"), (.get, "/webchat/p1/web/stream/"),
            (.get, "/webchat//web/stream"), (.get, "/webchat/p1/web/messages"), (.get, "/v1/webchat/p1/web/stream"),
            (.get, "/webchat/p1/web/x/stream"), (.get, "webchat/p1/web/stream"),
        ] {
            #expect(ids(method, path) == nil, "\(method) \(path)")
        }
    }
}
