import Foundation
import Testing

@testable import Relevo

@Suite("Conversation list through the API")
struct ConversationListTests {
    /// `GET …/conversations`: newest first, each as `GET …/conversations/{id}` shows it, paged by
    /// cursor, filtered by state, bot and user.
    @Test func listsNewestFirstPagedAndFiltered() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let base = "/v1/external-support/\(harness.projectId)"
            let empty = try await api.call(.get, base + "/conversations")
            #expect(
                empty.text
                    == #"{"message":["Conversations retrieved successfully"],"statusMessage":"success","status":1,"data":{"conversations":[],"nextCursor":null}}"#
            )
            _ = try await api.createIntegration()
            for bot in ["sales", "care"] {
                #expect(
                    try await api.call(.post, "/v1/projects/\(harness.projectId)/bots", body: #"{"id":"\#(bot)","name":"\#(bot) bot"}"#).status == .ok
                )
            }
            var started: [String] = []
            for index in 0..<5 {
                let user = "u\(index)"
                #expect(
                    try await api.call(.put, "/v1/projects/\(harness.projectId)/users/\(user)", body: #"{"names":"User \#(index)"}"#).status == .ok)
                let bot = index % 2 == 0 ? "sales" : "care"
                let reply = try await api.call(
                    .post, base + "/conversations/start", body: #"{"botId":"\#(bot)","userId":"\#(user)","metadata":{"i":\#(index)}}"#)
                started.append(try #require(reply.string("data", "_id")))
            }
            #expect(try await api.call(.post, base + "/conversations/close", body: #"{"botId":"care","userId":"u1"}"#).status == .ok)

            func page(_ query: String) async throws -> (ids: [String], next: String?, items: [JSONValue]) {
                let reply = try await api.call(.get, base + "/conversations" + query)
                #expect(reply.status == .ok, "\(query): \(reply.text)")
                guard case .array(let items)? = reply.data["conversations"] else { return ([], nil, []) }
                return (items.compactMap { $0["_id"]?.stringValue }, reply.data["nextCursor"]?.stringValue, items)
            }
            let newestFirst = Array(started.reversed())
            let all = try await page("")
            #expect(all.ids == newestFirst && all.next == nil)
            for item in all.items {
                let one = try await api.call(.get, base + "/conversations/" + (item["_id"]?.stringValue ?? ""))
                #expect(item == one.data, "the list shows each conversation as its own route does")
            }
            var paged: [String] = [], cursor: String?
            repeat {
                let next = try await page("?limit=2" + (cursor.map { "&cursor=" + $0 } ?? ""))
                #expect(next.ids.count <= 2)
                paged += next.ids
                cursor = next.next
            } while cursor != nil
            #expect(paged == newestFirst)
            #expect(try await page("?state=closed").ids == [started[1]])
            #expect(try await page("?state=active&botId=sales").ids == [started[4], started[2], started[0]])
            #expect(try await page("?userId=u3").ids == [started[3]])
            #expect(try await page("?botId=care&userId=u0").ids.isEmpty)
        }
    }

    /// Bad filters, sizes and cursors are 422 naming each parameter; another list's or project's cursor does not open.
    @Test func badParametersAreNamed() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let base = "/v1/external-support/\(harness.projectId)"
            let bad = try await api.call(.get, base + "/conversations?state=open&botId=no%20spaces&userId=&limit=0&cursor=v1.nope")
            #expect(bad.status == .unprocessableContent)
            #expect(bad.invalidFields.sorted() == ["botId", "cursor", "limit", "state", "userId"])
            #expect(try await api.call(.get, base + "/conversations?limit=201").invalidFields == ["limit"])
            #expect(try await api.call(.get, base + "/conversations?limit=abc").invalidFields == ["limit"])

            // A cursor of the event log, of this same project, is not a conversation cursor.
            _ = try await api.createIntegration()
            #expect(try await api.call(.post, "/v1/projects/\(harness.projectId)/bots", body: #"{"id":"b","name":"b"}"#).status == .ok)
            for user in ["u1", "u2"] {
                #expect(try await api.call(.put, "/v1/projects/\(harness.projectId)/users/\(user)", body: #"{"names":"n"}"#).status == .ok)
                #expect(try await api.call(.post, base + "/conversations/start", body: #"{"botId":"b","userId":"\#(user)"}"#).status == .ok)
            }
            let events = try await api.call(.get, base + "/events?limit=1")
            let eventCursor = try #require(events.data["nextCursor"]?.stringValue)
            #expect(try await api.call(.get, base + "/conversations?cursor=" + eventCursor).invalidFields == ["cursor"])
            let conversations = try await api.call(.get, base + "/conversations?limit=1")
            let cursor = try #require(conversations.data["nextCursor"]?.stringValue)
            #expect(try await api.call(.get, base + "/events?cursor=" + cursor).invalidFields == ["cursor"])
            #expect(try await api.call(.get, base + "/conversations", key: "rlv_not-a-key").status == .unauthorized)
        }
    }
}
