import Crypto
import Foundation
import HTTPTypes
import Testing

@testable import Relevo

/// Every error row of §3, §6 and §7, through the router (no delivery worker needed).
@Suite("Conversation, panel webhook and channel errors")
struct ConversationErrorTests {
    /// A project with an integration, bot `b1` and user `u1`.
    static func prepared(_ api: APIClient) async throws -> String {
        let created = try await api.createIntegration()
        let secret = try #require(created.string("data", "signingSecret"))
        let project = api.harness.projectId
        #expect(await api.statusOf(.post, "/v1/projects/\(project)/bots", body: #"{"id":"b1","name":"Bot"}"#) == .ok)
        #expect(await api.statusOf(.put, "/v1/projects/\(project)/users/u1", body: #"{"names":"Ana"}"#) == .ok)
        return secret
    }

    static func sign(_ body: String, _ secret: String) -> String {
        "sha256="
            + HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    @Test func startErrors() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let path = "/v1/external-support/\(harness.projectId)/conversations/start"
            let noIntegration = try await api.call(.post, "/v1/projects/\(harness.projectId)/bots", body: #"{"id":"b0","name":"B"}"#)
            #expect(noIntegration.status == .ok)
            try await api.call(.put, "/v1/projects/\(harness.projectId)/users/u0", body: #"{"names":"X"}"#)
            #expect(try await api.call(.post, path, body: #"{"botId":"b0","userId":"u0"}"#).errorKey == "INTEGRATION_NOT_FOUND")
            _ = try await Self.prepared(api)
            let invalid: [(String, [String])] = [
                ("{}", ["botId", "userId"]),
                (#"{"botId":"b 1","userId":7}"#, ["botId", "userId"]),
                (#"{"botId":"b1","userId":"u1","initialMessage":5}"#, ["initialMessage"]),
                ("{\"botId\":\"b1\",\"userId\":\"u1\",\"initialMessage\":\"" + String(repeating: "x", count: 4097) + "\"}", ["initialMessage"]),
                (#"{"botId":"b1","userId":"u1","metadata":[1]}"#, ["metadata"]),
                ("{\"botId\":\"b1\",\"userId\":\"u1\",\"metadata\":{\"k\":\"" + String(repeating: "x", count: 17000) + "\"}}", ["metadata"]),
                (#"{"botId":"b1","userId":"u1","assignment":{"type":"desk","target":"x"}}"#, ["assignment.type"]),
                (#"{"botId":"b1","userId":"u1","assignment":{"type":"queue"}}"#, ["assignment.target"]),
            ]
            for (body, fields) in invalid {
                let reply = try await api.call(.post, path, body: body)
                #expect(reply.status == .unprocessableContent, "\(body.prefix(80))")
                #expect(reply.invalidFields == fields, "\(body.prefix(80))")
            }
            #expect(try await api.call(.post, path, body: #"{"botId":"nobot","userId":"u1"}"#).errorKey == "BOT_NOT_FOUND")
            let noUser = try await api.call(.post, path, body: #"{"botId":"b1","userId":"nouser"}"#)
            #expect(noUser.errorKey == "USER_NOT_FOUND")
            // Every word in the reader's language, the resource too.
            #expect(noUser.string("error", "developerMessages", "es") == "El usuario no existe en este proyecto")
            #expect(noUser.string("error", "developerMessages", "pt") == "O usuário não existe neste projeto")
            #expect(try await api.call(.post, path, body: #"{"botId":"b1","userId":"u1"}"#).status == .ok)
            let again = try await api.call(.post, path, body: #"{"botId":"b1","userId":"u1"}"#)
            #expect(again.status == .conflict)
            #expect(again.errorKey == "CONVERSATION_ALREADY_ACTIVE")
            #expect(try await api.call(.post, path, body: #"{"botId":"b1","userId":"u1"}"#, key: .some(nil)).status == .unauthorized)
        }
    }

    @Test func closeAndGetErrors() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        let other = try await harness.app.projects.createProject(name: "other")
        try await harness.withClient { api in
            _ = try await Self.prepared(api)
            let base = "/v1/external-support/\(harness.projectId)/conversations"
            let notActive = try await api.call(.post, base + "/close", body: #"{"botId":"b1","userId":"u1"}"#)
            #expect(notActive.status == .conflict)
            #expect(notActive.errorKey == "CONVERSATION_NOT_ACTIVE")
            let started = try await api.call(.post, base + "/start", body: #"{"botId":"b1","userId":"u1"}"#)
            let id = try #require(started.string("data", "_id"))
            for (body, field) in [
                (#"{"botId":"b1"}"#, "userId"),
                (#"{"botId":"b1","userId":"u1","redirectPayload":{"type":"jump"}}"#, "redirectPayload.type"),
                (#"{"botId":"b1","userId":"u1","redirectPayload":{"type":"text"}}"#, "redirectPayload.text"),
                (#"{"botId":"b1","userId":"u1","redirectPayload":{"type":"edge","edgeId":"bad id"}}"#, "redirectPayload.edgeId"),
                (#"{"botId":"b1","userId":"u1","redirectPayload":"text"}"#, "redirectPayload"),
            ] {
                let reply = try await api.call(.post, base + "/close", body: body)
                #expect(reply.status == .unprocessableContent, "\(body)")
                #expect(reply.invalidFields == [field], "\(body)")
            }
            #expect(try await api.call(.post, base + "/close", body: #"{"botId":"zz","userId":"u1"}"#).errorKey == "BOT_NOT_FOUND")
            #expect(try await api.call(.post, base + "/close", body: #"{"botId":"b1","userId":"zz"}"#).errorKey == "USER_NOT_FOUND")
            let closed = try await api.call(
                .post, base + "/close", body: #"{"botId":"b1","userId":"u1","redirectPayload":{"type":"edge","edgeId":"node-7"}}"#)
            #expect(closed.status == .ok)
            #expect(closed.string("data", "state") == "closed")
            #expect(closed.string("data", "endAt") != nil)
            #expect(try await api.call(.post, base + "/close", body: #"{"botId":"b1","userId":"u1"}"#).errorKey == "CONVERSATION_NOT_ACTIVE")

            let read = try await api.call(.get, base + "/\(id)")
            #expect(read.status == .ok)
            #expect(read.data["messages"] == nil)
            #expect(try await api.call(.get, base + "/nope").errorKey == "CONVERSATION_NOT_FOUND")
            #expect(try await api.call(.get, base + "/bad%20id").status == .unprocessableContent)
            let foreign = try await api.call(.get, "/v1/external-support/\(other.projectId)/conversations/\(id)", key: .some(other.apiKey))
            #expect(foreign.errorKey == "CONVERSATION_NOT_FOUND")
        }
    }

    @Test func panelWebhookChecksInTheContractsOrder() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let secret = try await Self.prepared(api)
            let project = harness.projectId
            let started = try await api.call(.post, "/v1/external-support/\(project)/conversations/start", body: #"{"botId":"b1","userId":"u1"}"#)
            let room = try #require(started.string("data", "roomId"))
            func body(
                project: String = project, room: String = room, bot: String = "b1", event: String = "incoming_message",
                value: String = #"{"id":"p-1","type":"text","content":{"body":"Hi"}}"#
            ) -> String {
                #"{"field":"messages","object":"message_event","event_type":"\#(event)","project_id":"\#(project)","room_id":"\#(room)","bot_id":"\#(bot)","user_id":"u1","value":\#(value)}"#
            }
            func send(_ text: String, signature: String?, contentType: String = "application/json") async throws -> Reply {
                var headers: HTTPFields = [.contentType: contentType]
                if let signature { headers[HTTPField.Name("X-Jelou-Signature")!] = signature }
                return try await api.call(.post, "/v1/external-support/webhook", body: text, key: .some(nil), headers: headers)
            }
            let big = "{\"pad\":\"" + String(repeating: "x", count: 300 * 1024) + "\"}"
            #expect(try await send(big, signature: nil).status == .contentTooLarge)
            #expect(try await send("{not json", signature: nil).status == .badRequest)
            for unsigned in [#"{"field":"messages"}"#, body(project: "unknown-project"), body()] {
                let reply = try await send(unsigned, signature: Self.sign(unsigned, "wrong-secret"))
                #expect(reply.status == .unauthorized)
                #expect(reply.errorKey == "INVALID_SIGNATURE")
            }
            #expect(try await send(body(), signature: nil).errorKey == "INVALID_SIGNATURE")
            // Signed over other bytes (a re-serialization with spaces) is not the body received.
            let spaced = body().replacingOccurrences(of: ":", with: ": ")
            #expect(try await send(body(), signature: Self.sign(spaced, secret)).errorKey == "INVALID_SIGNATURE")

            let wrongEvent = body(event: "outgoing")
            let invalid = try await send(wrongEvent, signature: Self.sign(wrongEvent, secret))
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.invalidFields == ["event_type"])
            let badValue = body(value: #"{"id":"p-9","type":"sticker","content":{}}"#)
            #expect(try await send(badValue, signature: Self.sign(badValue, secret)).invalidFields == ["value.type"])
            let wrongRoom = body(room: "other-room")
            #expect(try await send(wrongRoom, signature: Self.sign(wrongRoom, secret)).errorKey == "ROOM_NOT_FOUND")
            let wrongBot = body(bot: "b2")
            #expect(try await send(wrongBot, signature: Self.sign(wrongBot, secret)).errorKey == "ROOM_NOT_FOUND")

            let good = body()
            let first = try await send(good, signature: Self.sign(good, secret))
            #expect(first.status == .ok)
            #expect(first.data == .members(["messageId": "p-1", "conversationId": .string(try #require(started.string("data", "_id")))]))
            let repeatReply = try await send(good, signature: Self.sign(good, secret))
            #expect(repeatReply.text == first.text)

            try await api.call(.post, "/v1/external-support/\(project)/conversations/close", body: #"{"botId":"b1","userId":"u1"}"#)
            let late = body(value: #"{"id":"p-2","type":"text","content":{"body":"late"}}"#)
            #expect(try await send(late, signature: Self.sign(late, secret)).errorKey == "CONVERSATION_NOT_ACTIVE")
        }
    }

    @Test func theOldSecretVerifiesOnlyDuringGrace() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let original = try await Self.prepared(api)
            let project = harness.projectId
            let started = try await api.call(.post, "/v1/external-support/\(project)/conversations/start", body: #"{"botId":"b1","userId":"u1"}"#)
            let room = try #require(started.string("data", "roomId"))
            func message(_ id: String) -> String {
                #"{"field":"messages","object":"message_event","event_type":"incoming_message","project_id":"\#(project)","room_id":"\#(room)","bot_id":"b1","user_id":"u1","value":{"id":"\#(id)","type":"text","content":{"body":"x"}}}"#
            }
            func send(_ text: String, _ secret: String) async throws -> HTTPResponse.Status {
                try await api.call(
                    .post, "/v1/external-support/webhook", body: text, key: .some(nil),
                    headers: [HTTPField.Name("X-Jelou-Signature")!: Self.sign(text, secret)]
                ).status
            }
            let regenerated = try await api.call(.post, "/v1/external-support/\(project)/secret/regenerate", body: #"{"graceSeconds":600}"#)
            let current = try #require(regenerated.string("data", "signingSecret"))
            #expect(try await send(message("g-1"), original) == .ok)
            #expect(try await send(message("g-2"), current) == .ok)
            try await api.call(.post, "/v1/external-support/\(project)/secret/regenerate")
            #expect(try await send(message("g-3"), current) == .unauthorized)
        }
    }

    @Test func channelAndBotErrors() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            _ = try await Self.prepared(api)
            let project = harness.projectId
            let bots = "/v1/projects/\(project)/bots"
            #expect(try await api.call(.post, bots, body: #"{"id":"b1","name":"Again"}"#).errorKey == "BOT_ALREADY_EXISTS")
            #expect(try await api.call(.post, bots, body: #"{"id":"b9"}"#).invalidFields == ["name"])
            #expect(
                try await api.call(.post, bots, body: #"{"name":"B","channelWebhookUrl":"http://127.0.0.1/x"}"#).invalidFields == [
                    "channelWebhookUrl"
                ])
            let created = try await api.call(.post, bots, body: #"{"name":"Generated"}"#)
            #expect(created.status == .ok)
            let secret = try #require(created.string("data", "channelSigningSecret"))
            let botId = try #require(created.string("data", "id"))
            let read = try await api.call(.get, bots + "/\(botId)")
            #expect(read.status == .ok && !read.text.contains(secret))
            #expect(try await api.call(.get, bots + "/missing").errorKey == "BOT_NOT_FOUND")
            #expect(try await api.call(.patch, bots + "/missing", body: #"{"channelWebhookUrl":null}"#).errorKey == "BOT_NOT_FOUND")
            #expect(try await api.call(.patch, bots + "/b1", body: #"{"channelWebhookUrl":"ftp://x"}"#).status == .badRequest)
            #expect(try await api.call(.put, "/v1/projects/\(project)/users/u2", body: #"{"names":""}"#).invalidFields == ["names"])
            #expect(try await api.call(.get, "/v1/projects/\(project)/users/u404").errorKey == "USER_NOT_FOUND")

            let messages = "/v1/projects/\(project)/channel/messages"
            let invalid: [(String, [String])] = [
                (#"{"botId":"b1","userId":"u1"}"#, ["value"]),
                (#"{"botId":"b1","userId":"u1","value":{"id":"v1","type":"sticker","content":{}}}"#, ["value.type"]),
                (#"{"botId":"b1","userId":"u1","value":{"id":"v1","type":"text","content":{}}}"#, ["value.content.body"]),
                (#"{"botId":"b1","userId":"u1","value":{"id":"v1","type":"text","content":{"body":""}}}"#, ["value.content.body"]),
                (
                    "{\"botId\":\"b1\",\"userId\":\"u1\",\"value\":{\"id\":\"v1\",\"type\":\"text\",\"content\":{\"body\":\""
                        + String(repeating: "y", count: 4097) + "\"}}}", ["value.content.body"]
                ),
                (
                    #"{"botId":"b1","userId":"u1","value":{"id":"v1","type":"image","content":{"url":"http://x/a.png","mime_type":"image/png"}}}"#,
                    ["value.content.url"]
                ),
                (
                    #"{"botId":"b1","userId":"u1","value":{"id":"v1","type":"audio","content":{"url":"https://x/a.mp3","mime_type":"video/mp4"}}}"#,
                    ["value.content.mime_type"]
                ),
                (
                    #"{"botId":"b1","userId":"u1","value":{"id":"v1","type":"document","content":{"url":"https://x/a.pdf"}}}"#,
                    ["value.content.mime_type"]
                ),
                (#"{"botId":"b1","userId":"u1","value":{"type":"text","content":{"body":"x"}}}"#, ["value.id"]),
                (#"{"botId":"b1","userId":"u1","value":{"id":"v1","type":"text","content":"x"}}"#, ["value.content"]),
            ]
            for (body, fields) in invalid {
                let reply = try await api.call(.post, messages, body: body)
                #expect(reply.status == .unprocessableContent, "\(body.prefix(90))")
                #expect(reply.invalidFields == fields, "\(body.prefix(90))")
            }
            #expect(
                try await api.call(.post, messages, body: #"{"botId":"zz","userId":"u1","value":{"id":"v2","type":"text","content":{"body":"x"}}}"#)
                    .errorKey == "BOT_NOT_FOUND")
            let toBot = try await api.call(
                .post, messages,
                body: #"{"botId":"b1","userId":"new-user","userName":"Nuevo","value":{"id":"v3","type":"text","content":{"body":"hola"}}}"#)
            #expect(toBot.data == .members(["routedTo": "bot"]))
            #expect(try await api.call(.get, "/v1/projects/\(project)/users/new-user").string("data", "names") == "Nuevo")
            // A repeat of a message (same value.id) answers the first answer and changes nothing, even
            // when it names the user differently or comes for a user that does not exist.
            let renamed = try await api.call(
                .post, messages,
                body: #"{"botId":"b1","userId":"new-user","userName":"Otro","value":{"id":"v3","type":"text","content":{"body":"hola"}}}"#)
            #expect(renamed.data == .members(["routedTo": "bot"]))
            #expect(try await api.call(.get, "/v1/projects/\(project)/users/new-user").string("data", "names") == "Nuevo")
            let elsewhere = try await api.call(
                .post, messages, body: #"{"botId":"b1","userId":"ghost","value":{"id":"v3","type":"text","content":{"body":"hola"}}}"#)
            #expect(elsewhere.data == .members(["routedTo": "bot"]))
            #expect(try await api.call(.get, "/v1/projects/\(project)/users/ghost").errorKey == "USER_NOT_FOUND")
        }
    }
}
