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
            let started = try await api.call(.post, base + "/start",
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
            let message = try await api.call(.post, "/v1/projects/\(harness.projectId)/channel/messages", body: #"""
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
}
