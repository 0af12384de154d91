import HTTPTypes
import Testing

@testable import Relevo

/// Client text is compared and measured as the JavaScript on the other side does: by code points,
/// not Swift's canonical equivalence, and lengths in UTF-16 code units, not grapheme clusters.
@Suite("Text as JavaScript sees it")
struct JavaScriptTextTests {
    static let emoji = "😀"  // 1 grapheme, 2 UTF-16 code units
    static let combining = "\u{301}"  // a combining acute accent: joins the previous grapheme, 1 code unit

    /// Whether `reply`'s raw bytes contain `text`'s UTF-8 bytes (a `String` search would ignore normalization).
    static func bytes(of reply: Reply, contain text: String) -> Bool {
        Array(reply.text.utf8).firstRange(of: Array(text.utf8)) != nil
    }

    @Test func metadataKeysThatDifferOnlyInNormalizationAreBothKept() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            _ = try await ConversationErrorTests.prepared(api)
            let base = "/v1/external-support/\(harness.projectId)/conversations"
            let started = try await api.call(
                .post, base + "/start",
                body: #"{"botId":"b1","userId":"u1","metadata":{"\u00e9":1,"e\u0301":2}}"#)
            #expect(started.status == .ok)
            #expect(Self.bytes(of: started, contain: "\"metadata\":{\"\u{e9}\":1,\"e\u{301}\":2}"))
            let id = try #require(started.string("data", "_id"))
            let read = try await api.call(.get, base + "/\(id)")
            #expect(Self.bytes(of: read, contain: "\"metadata\":{\"\u{e9}\":1,\"e\u{301}\":2}"))
        }
    }

    @Test func aChannelMessageRenamesAUserWhoseNameDiffersOnlyInNormalization() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            _ = try await ConversationErrorTests.prepared(api)
            let users = "/v1/projects/\(harness.projectId)/users"
            #expect(try await api.call(.put, users + "/carl", body: #"{"names":"Jose\u0301"}"#).status == .ok)
            let message = try await api.call(
                .post, "/v1/projects/\(harness.projectId)/channel/messages",
                body: #"""
                    {"botId":"b1","userId":"carl","userName":"Jos\u00e9","value":{"id":"m-1","type":"text","content":{"body":"hola"}}}
                    """#)
            #expect(message.status == .ok)
            let user = try await api.call(.get, users + "/carl")
            #expect(Array(try #require(user.string("data", "names")).utf8) == Array("Jos\u{e9}".utf8))
        }
    }

    @Test func aBasicCredentialWhosePasswordStartsWithACombiningMarkIsUserColonPassword() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let created = try await api.createIntegration(
                #"{"webhookUrl":"https://93.184.215.14/hook","authType":"basic","authorization":"ana:\u0301secret"}"#)
            #expect(created.status == .ok)
        }
        #expect(PanelCredential.basicToken("ana:\u{301}secret") == "YW5hOsyBc2VjcmV0")
    }

    @Test func textLimitsCountUTF16CodeUnits() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let secret = try await ConversationErrorTests.prepared(api)
            let project = harness.projectId
            let fits = String(repeating: Self.emoji, count: 2048)  // 4096 code units
            let over = String(repeating: Self.emoji, count: 2049)  // 4098 code units, 2049 graphemes
            let oneGrapheme = "e" + String(repeating: Self.combining, count: 20_000)

            func channel(_ id: String, _ text: String) async throws -> Reply {
                try await api.call(
                    .post, "/v1/projects/\(project)/channel/messages",
                    body: #"""
                        {"botId":"b1","userId":"u1","value":{"id":"\#(id)","type":"text","content":{"body":"\#(text)"}}}
                        """#)
            }
            #expect(try await channel("c-1", fits).status == .ok)
            for (id, text) in [("c-2", over), ("c-3", oneGrapheme)] {
                let reply = try await channel(id, text)
                #expect(reply.status == .unprocessableContent)
                #expect(reply.invalidFields == ["value.content.body"])
            }

            let conversations = "/v1/external-support/\(project)/conversations"
            for text in [over, oneGrapheme] {
                let start = try await api.call(.post, conversations + "/start", body: #"{"botId":"b1","userId":"u1","initialMessage":"\#(text)"}"#)
                #expect(start.invalidFields == ["initialMessage"])
                let close = try await api.call(
                    .post, conversations + "/close",
                    body: #"{"botId":"b1","userId":"u1","redirectPayload":{"type":"text","text":"\#(text)"}}"#)
                #expect(close.invalidFields == ["redirectPayload.text"])
            }
            let tooLongName = "e" + String(repeating: Self.combining, count: 256)  // 257 code units
            #expect(try await api.call(.put, "/v1/projects/\(project)/users/u2", body: #"{"names":"\#(tooLongName)"}"#).invalidFields == ["names"])
            #expect(
                try await api.call(
                    .put, "/v1/projects/\(project)/users/u2",
                    body: #"{"names":"\#(String(repeating: Self.emoji, count: 128))"}"#
                ).status == .ok)
            #expect(try await api.call(.post, "/v1/projects/\(project)/bots", body: #"{"name":"\#(tooLongName)"}"#).invalidFields == ["name"])
            let assignment = try await api.call(
                .post, conversations + "/start",
                body: #"{"botId":"b1","userId":"u1","assignment":{"type":"queue","target":"\#(tooLongName)"}}"#)
            #expect(assignment.invalidFields == ["assignment.target"])

            // The panel webhook (§6) applies the same limit to what agents send.
            let started = try await api.call(.post, conversations + "/start", body: #"{"botId":"b1","userId":"u1","initialMessage":"\#(fits)"}"#)
            #expect(started.status == .ok)
            let room = try #require(started.string("data", "roomId"))
            func panel(_ id: String, _ text: String) async throws -> Reply {
                let body =
                    #"{"field":"messages","object":"message_event","event_type":"incoming_message","project_id":"\#(project)","room_id":"\#(room)","bot_id":"b1","user_id":"u1","value":{"id":"\#(id)","type":"text","content":{"body":"\#(text)"}}}"#
                return try await api.call(
                    .post, "/v1/external-support/webhook", body: body, key: .some(nil),
                    headers: [HTTPField.Name("X-Jelou-Signature")!: ConversationErrorTests.sign(body, secret)])
            }
            #expect(try await panel("p-1", fits).status == .ok)
            #expect(try await panel("p-2", over).invalidFields == ["value.content.body"])
            #expect(try await panel("p-3", oneGrapheme).invalidFields == ["value.content.body"])

            let credential = try await api.createIntegration(
                #"{"webhookUrl":"https://93.184.215.14/hook","authType":"bearer","authorization":"t\#(String(repeating: Self.combining, count: 4096))"}"#
            )
            #expect(credential.invalidFields == ["authorization"])
        }
    }
}
