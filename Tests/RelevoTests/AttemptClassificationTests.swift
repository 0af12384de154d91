import Foundation
import Testing

@testable import Relevo

/// What each kind of failed attempt records (§5.2), seen through the event log of a live server.
@Suite("Attempt error classes", .serialized)
struct AttemptClassificationTests {
    typealias World = ConversationFlowTests.World

    /// Starts a conversation and returns the attempts of its `conversation.start` event once it has `count`.
    static func attempts(_ world: World, count: Int) async throws -> [JSONValue] {
        _ = try await world.server.data("POST", world.base + "/conversations/start", key: world.key, body: #"{"botId":"bot-1","userId":"user-1"}"#)
        for _ in 0..<300 {
            let page = try await world.server.data("GET", world.base + "/events", key: world.key)
            if case .array(let events)? = page["events"], let id = events.last?["id"]?.stringValue {
                let detail = try await world.server.data("GET", world.base + "/events/\(id)", key: world.key)
                if case .array(let attempts)? = detail["attempts"], attempts.count >= count { return attempts }
            }
            try await Task.sleep(for: .milliseconds(30))
        }
        return []
    }

    /// What an operator reads in the `outcome` of a logged attempt: a time, not a Swift value dump.
    @Test func outcomesReadAsWordsAndTimesInTheLog() {
        let at = Timestamp(millisecondsSince1970: 1_768_473_005_000)
        #expect(DeliveryOutcome.retry(at: at).description == "retry at 2026-01-15T10:30:05.000Z")
        #expect(DeliveryOutcome.failed(at: at).description == "failed")
        #expect(DeliveryOutcome.delivered(at: at).description == "delivered")
        #expect(DeliveryOutcome.held.description == "held")
    }

    @Test func redirectsAreFailuresAndAreNotFollowed() async throws {
        var world = try await World.make(retrySchedule: "20ms")
        defer { world.tearDown() }
        try await world.configure()
        world.panel.answer(always: 302)
        let attempts = try await Self.attempts(world, count: 2)
        #expect(attempts.map { $0["statusCode"] ?? .null } == [302, 302])
        #expect(attempts.allSatisfy { $0["errorClass"] == "redirect" })
        #expect(world.panel.requests.count == 2)  // nothing followed the Location
    }

    @Test func aClosedPortIsConnectionRefused() async throws {
        var world = try await World.make(retrySchedule: "20ms")
        defer { world.tearDown() }
        try await world.configure()
        let url = "http://127.0.0.1:9/hook"  // the discard port: nothing listens there
        _ = try await world.server.data("PATCH", world.base, key: world.key, body: #"{"webhookUrl":"\#(url)"}"#)
        let attempts = try await Self.attempts(world, count: 1)
        #expect(attempts.count >= 1)
        #expect(attempts.allSatisfy { $0["errorClass"] == "connection_refused" && $0["statusCode"] == .null })
    }

    @Test func gone410EndsRetriesAtOnce() async throws {
        var world = try await World.make(retrySchedule: "20ms,20ms,20ms")
        defer { world.tearDown() }
        try await world.configure()
        world.panel.answer(always: 410)
        let attempts = try await Self.attempts(world, count: 1)
        try await Task.sleep(for: .milliseconds(200))
        #expect(attempts.count == 1)
        #expect(world.panel.requests.count == 1)
        let failed = try await EventLogTests.waitForEvents(world, status: "failed", count: 1)
        #expect(failed.count == 1)
    }

    /// An integration whose address becomes a private one (say DNS now answers 127.0.0.1) is not called.
    @Test func theAddressRuleIsCheckedAgainOnEveryAttempt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-guard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { removeTemporaryDirectory(directory) }  // after the server's stop below
        let panel = WebhookReceiver()
        try await panel.start()
        defer { panel.stop() }
        let database = "sqlite://\(directory.path)/relevo.sqlite"
        let server = try ServerProcess(arguments: ["--database", database, "--retry-schedule", "20ms,20ms"], directory: directory)
        defer { server.stop() }  // no --allow-insecure-webhooks: loopback is forbidden
        try await server.waitUntilListening()
        let projectId = try #require(server.banner("projectId")), key = try #require(server.banner("x-api-key"))
        let base = "/v1/external-support/\(projectId)"
        _ = try await server.data("POST", base, key: key, body: #"{"webhookUrl":"https://93.184.215.14/hook"}"#)
        // What a DNS change would do: the stored address now leads to this machine.
        var configuration = RelevoConfiguration()
        configuration.databaseURL = database
        let app = try await RelevoApp(configuration: configuration)
        _ = try await app.store.modifyIntegration(projectId: projectId) { $0.webhookUrl = "http://127.0.0.1:\(panel.port)/hook" }
        _ = try await server.data("POST", "/v1/projects/\(projectId)/bots", key: key, body: #"{"id":"b","name":"B"}"#)
        _ = try await server.data("PUT", "/v1/projects/\(projectId)/users/u", key: key, body: #"{"names":"U"}"#)
        _ = try await server.data("POST", base + "/conversations/start", key: key, body: #"{"botId":"b","userId":"u"}"#)
        var attempts: [JSONValue] = []
        for _ in 0..<300 {
            let page = try await server.data("GET", base + "/events?status=failed", key: key)
            if case .array(let events)? = page["events"], let id = events.first?["id"]?.stringValue,
                case .array(let list)? = try await server.data("GET", base + "/events/\(id)", key: key)["attempts"]
            {
                attempts = list
                break
            }
            try await Task.sleep(for: .milliseconds(30))
        }
        #expect(attempts.count == 3)
        #expect(attempts.allSatisfy { $0["errorClass"] == "blocked_address" })
        #expect(panel.requests.isEmpty)
    }
}
