import Foundation
import Testing

@testable import Relevo

@Suite("Event log and redelivery", .serialized)
struct EventLogTests {
    typealias World = ConversationFlowTests.World

    /// Waits until the project has `count` events in `status`.
    static func waitForEvents(_ world: World, status: String, count: Int) async throws -> [JSONValue] {
        for _ in 0..<200 {
            let data = try await world.server.data("GET", world.base + "/events?status=\(status)", key: world.key)
            if case .array(let events)? = data["events"], events.count >= count { return events }
            try await Task.sleep(for: .milliseconds(25))
        }
        return []
    }

    /// Waits until one event's status is `status`: the panel can hold a delivery before its settlement commits.
    static func waitForStatus(_ world: World, id: String, status: String) async throws -> JSONValue? {
        var detail: JSONValue = .null
        for _ in 0..<200 {
            detail = try await world.server.data("GET", world.base + "/events/\(id)", key: world.key)
            if detail["status"] == .string(status) { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        return detail["status"]
    }

    @Test(arguments: StoreContractTests.Backend.allCases)
    func failedEventsShowTheirAttemptsAndCanBeRedelivered(backend: StoreContractTests.Backend) async throws {
        var world = try await World.make(backend, retrySchedule: "50ms,50ms")  // 3 attempts in all
        defer { world.tearDown() }
        try await world.configure()
        world.panel.answer(always: 500)
        let since = Timestamp.now().iso8601
        _ = try await world.server.data("POST", world.base + "/conversations/start", key: world.key, body: #"{"botId":"bot-1","userId":"user-1"}"#)
        _ = try await world.channelMessage(#"{"id":"e-1","type":"text","content":{"body":"one"}}"#)
        _ = try await world.channelMessage(#"{"id":"e-2","type":"text","content":{"body":"two"}}"#)

        let failed = try await Self.waitForEvents(world, status: "failed", count: 3)
        #expect(failed.count == 3)
        #expect(failed.map { $0["eventType"] ?? .null } == ["message", "message", "conversation.start"])  // newest first
        #expect(world.panel.requests.count == 9)  // 3 attempts each, the next released only when the previous gave up
        let startId = try #require(failed.last?["id"]?.stringValue)

        let detail = try await world.server.data("GET", world.base + "/events/\(startId)", key: world.key)
        #expect(detail["status"] == "failed")
        #expect(detail["body"]?["event"] == "conversation.start")
        guard case .array(let attempts)? = detail["attempts"] else { Issue.record("no attempts"); return }
        #expect(attempts.map { $0["number"] ?? .null } == [1, 2, 3])
        #expect(attempts.allSatisfy { $0["statusCode"] == 500 && $0["errorClass"] == "http_status" && $0["responseBody"] == #"{"ok":false}"# })

        // Paging: two per page, newest first, no overlap.
        let first = try await world.server.data("GET", world.base + "/events?limit=2", key: world.key)
        let cursor = try #require(first["nextCursor"]?.stringValue)
        // Opaque: not the row number every project shares, and only what the API returned opens.
        #expect(Int64(cursor) == nil && !cursor.contains(where: { "+/= ".contains($0) }), "\(cursor)")
        var tampered = Array(cursor)
        tampered[10] = tampered[10] == "A" ? "B" : "A"  // a character inside (the last one may only carry padding bits)
        #expect(try await world.server.request("GET", world.base + "/events?cursor=\(String(tampered))", key: world.key).0 == 422)
        let second = try await world.server.data("GET", world.base + "/events?limit=2&cursor=\(cursor)", key: world.key)
        guard case .array(let a)? = first["events"], case .array(let b)? = second["events"] else { Issue.record("no pages"); return }
        #expect(a.count == 2 && b.count == 1)
        #expect(Set((a + b).compactMap { $0["id"]?.stringValue }).count == 3)
        #expect(second["nextCursor"] == .null)

        world.panel.answer(always: 200)
        let one = try await world.server.request("POST", world.base + "/events/\(startId)/redeliver", key: world.key)
        #expect(one.0 == 200)
        #expect(await world.panel.waitForAccepted(1).first?.header("webhook-id") == startId)
        #expect(try await Self.waitForStatus(world, id: startId, status: "delivered") == "delivered")
        let again = try await world.server.request("POST", world.base + "/events/\(startId)/redeliver", key: world.key)
        #expect(again.0 == 200)  // a delivered event can be sent again too
        let bulk = try await world.server.data(
            "POST", world.base + "/events/redeliver", key: world.key,
            body: #"{"status":"failed","since":"\#(since)"}"#)
        #expect(bulk == .members(["count": 2]))
        let accepted = await world.panel.waitForAccepted(4)
        #expect(accepted.map { $0.json["event"] ?? $0.json["value"]?["id"] ?? .null } == ["conversation.start", "conversation.start", "e-1", "e-2"])
        let delivered = try await Self.waitForEvents(world, status: "delivered", count: 3)
        #expect(delivered.count == 3)

        // Without the integration there is nowhere to send a panel event: refused, its history kept.
        #expect(try await world.server.request("DELETE", world.base, key: world.key).0 == 200)
        let orphan = try await world.server.request("POST", world.base + "/events/\(startId)/redeliver", key: world.key)
        #expect(orphan.0 == 404 && orphan.1.contains("INTEGRATION_NOT_FOUND"), "\(orphan)")
        let bulkOrphan = try await world.server.request(
            "POST", world.base + "/events/redeliver", key: world.key,
            body: #"{"status":"failed","since":"\#(since)"}"#)
        #expect(bulkOrphan.0 == 404 && bulkOrphan.1.contains("INTEGRATION_NOT_FOUND"), "\(bulkOrphan)")
        #expect(try await world.server.data("GET", world.base + "/events/\(startId)", key: world.key)["status"] == "delivered")
    }

    /// A panel whose answer holds a NUL byte (or bytes that are not UTF-8): the event is delivered once
    /// and its attempt shows the whole answer, NUL as U+FFFD. (Kept as is, the text would be cut at
    /// the NUL by SQLite and refused by PostgreSQL, the event then sent again at every lease's end.)
    @Test(arguments: StoreContractTests.Backend.allCases)
    func answersWithNulBytesAreRecordedWhole(backend: StoreContractTests.Backend) async throws {
        var world = try await World.make(backend)
        defer { world.tearDown() }
        try await world.configure()
        world.panel.answer(body: [0x61, 0x00, 0x62, 0xFF, 0x63])
        _ = try await world.server.data("POST", world.base + "/conversations/start", key: world.key, body: #"{"botId":"bot-1","userId":"user-1"}"#)
        let delivered = try await Self.waitForEvents(world, status: "delivered", count: 1)
        let id = try #require(delivered.first?["id"]?.stringValue)
        let detail = try await world.server.data("GET", world.base + "/events/\(id)", key: world.key)
        guard case .array(let attempts)? = detail["attempts"] else { Issue.record("no attempts: \(detail)"); return }
        #expect(attempts.count == 1)
        #expect(attempts.first?["responseBody"] == "a\u{FFFD}b\u{FFFD}c")
        #expect(world.panel.requests.count == 1)
    }

    @Test func badQueriesAndUnknownEvents() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            let base = "/v1/external-support/\(harness.projectId)/events"
            for (query, field) in [
                ("?limit=0", "limit"), ("?limit=201", "limit"), ("?limit=x", "limit"), ("?status=lost", "status"),
                ("?cursor=abc", "cursor"), ("?cursor=0", "cursor"), ("?cursor=999", "cursor"),
                ("?conversationId=bad%20id", "conversationId"),
            ] {
                let reply = try await api.call(.get, base + query)
                #expect(reply.status == .unprocessableContent, "\(query)")
                #expect(reply.invalidFields == [field], "\(query)")
            }
            #expect(try await api.call(.get, base).data == .members(["events": .array([]), "nextCursor": .null]))
            #expect(try await api.call(.get, base + "/evt_missing").errorKey == "EVENT_NOT_FOUND")
            #expect(try await api.call(.post, base + "/evt_missing/redeliver").errorKey == "EVENT_NOT_FOUND")
            for body in [#"{"status":"delivered","since":"2026-01-01T00:00:00.000Z"}"#, #"{"status":"failed","since":"yesterday"}"#] {
                #expect(try await api.call(.post, base + "/redeliver", body: body).status == .unprocessableContent)
            }
            let bulk = #"{"status":"failed","since":"2026-01-01T00:00:00Z"}"#
            #expect(try await api.call(.post, base + "/redeliver", body: bulk).errorKey == "INTEGRATION_NOT_FOUND")
            _ = try await api.createIntegration()
            #expect(try await api.call(.post, base + "/redeliver", body: bulk).data == .members(["count": 0]))
        }
    }

    @Test func bulkRedeliverySinceADayTheMonthDoesNotHaveIs422() async throws {
        let harness = try await Harness.make()
        defer { harness.removeFiles() }
        try await harness.withClient { api in
            _ = try await api.createIntegration()  // redelivery needs one
            let path = "/v1/external-support/\(harness.projectId)/events/redeliver"
            for since in ["2026-02-30T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "2025-02-29T00:00:00.000Z"] {
                let reply = try await api.call(.post, path, body: #"{"status":"failed","since":"\#(since)"}"#)
                #expect(reply.status == .unprocessableContent, "\(since)")
                #expect(reply.invalidFields == ["since"], "\(since)")
            }
            let leapDay = try await api.call(.post, path, body: #"{"status":"failed","since":"2028-02-29T00:00:00.000Z"}"#)
            #expect(leapDay.data == .members(["count": 0]))
        }
    }

    /// Every position comes back from its cursor, for its project and list only; numbers, another
    /// project's cursors and another list's cursors do not open.
    @Test func cursorsOpenForTheirProjectOnly() throws {
        let secrets = try SecretBox(masterKey: Array(repeating: 7, count: 32))
        let cursors = PageCursor(secrets: secrets, list: .events)
        let conversationCursors = PageCursor(secrets: secrets, list: .conversations)
        for position: Int64 in [0, 9, 10, 99, 100, 999, 1000, 123_456, Int64.max] {
            let cursor = cursors.seal(position, projectId: "p1")
            #expect(cursors.open(cursor, projectId: "p1") == position, "\(position) \(cursor)")
            #expect(cursors.open(cursor, projectId: "p2") == nil)
            #expect(conversationCursors.open(cursor, projectId: "p1") == nil)
            #expect(conversationCursors.open(conversationCursors.seal(position, projectId: "p1"), projectId: "p1") == position)
            #expect(cursors.open(String(position), projectId: "p1") == nil)
            #expect(cursor.utf8.allSatisfy { $0.isLetterOrDigitOrURLSafe }, "\(cursor)")
        }
        #expect(cursors.open(String(repeating: "A", count: 300), projectId: "p1") == nil)
    }

    @Test func isoTimestampsParseBack() {
        for millis: Int64 in [0, 1_768_473_000_123, -86_400_001, 951_782_400_000] {
            let time = Timestamp(millisecondsSince1970: millis)
            #expect(Timestamp(iso8601: time.iso8601) == time)
        }
        #expect(Timestamp(iso8601: "2026-13-01T00:00:00Z") == nil)
        #expect(Timestamp(iso8601: "2026-01-01 00:00:00Z") == nil)
    }
}

private extension UInt8 {
    /// What a query string carries unchanged: letters, digits, `-`, `_` and `.`.
    var isLetterOrDigitOrURLSafe: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "-") || self == UInt8(ascii: "_")
            || self == UInt8(ascii: ".")
    }
}
