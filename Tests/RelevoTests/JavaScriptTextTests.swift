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
}
