import Crypto
import Foundation
import Testing

@testable import Relevo

/// A live Relevo (the real binary, a SQLite file), a live panel and a live channel on loopback.
@Suite("Conversations end to end", .serialized)
struct ConversationFlowTests {
    /// Everything a test needs: the server, both receivers, and the project's credentials.
    struct World {
        let directory: URL
        let server: ServerProcess
        let panel: WebhookReceiver
        let channel: WebhookReceiver
        let projectId: String
        let key: String
        var signingSecret = ""
        var channelSecret = ""
        var retrySchedule = "300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms"

        /// `--database` and the environment (the master key, required on PostgreSQL) of every start.
        var database = ""
        var environment: [String: String] = [:]

        var base: String { "/v1/external-support/\(projectId)" }
        var arguments: [String] { Self.arguments(database: database, retrySchedule: retrySchedule) }

        static func arguments(database: String, retrySchedule: String) -> [String] {
            ["--database", database, "--allow-insecure-webhooks", "--retry-schedule", retrySchedule, "--rate-limit", "0"]
        }

        /// A live server on a new SQLite file or a new PostgreSQL database, with live panel and channel
        /// receivers; `settings` are more environment variables for the server.
        static func make(
            _ backend: StoreContractTests.Backend = .sqlite,
            retrySchedule: String = "300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms",
            settings: [String: String] = [:]
        ) async throws -> World {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relevo-flow-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let panel = WebhookReceiver(), channel = WebhookReceiver()
            var started: ServerProcess?
            do {
                let database: String
                var environment: [String: String]
                switch backend {
                case .sqlite: (database, environment) = ("sqlite://\(directory.path)/relevo.sqlite", [:])
                case .postgres:
                    (database, environment) = (try await TestPostgres.freshDatabase(), ["RELEVO_MASTER_KEY": String(repeating: "ab", count: 32)])
                }
                environment.merge(settings) { _, setting in setting }
                try await panel.start()
                try await channel.start()
                let server = try ServerProcess(
                    arguments: arguments(database: database, retrySchedule: retrySchedule), directory: directory,
                    environment: environment)
                started = server
                try await server.waitUntilListening()
                return World(
                    directory: directory, server: server, panel: panel, channel: channel,
                    projectId: try #require(server.banner("projectId")), key: try #require(server.banner("x-api-key")),
                    retrySchedule: retrySchedule, database: database, environment: environment)
            } catch {
                // No world reaches the test to tear it down.
                started?.stop()
                panel.stop()
                channel.stop()
                removeTemporaryDirectory(directory)
                throw error
            }
        }

        /// Integration (bearer credential), a bot with a channel, and a user.
        mutating func configure() async throws {
            let integration = try await server.data(
                "POST", base, key: key,
                body: """
                    {"webhookUrl":"\(panel.url)","authType":"bearer","authorization":"panel-token-123"}
                    """)
            signingSecret = try #require(integration["signingSecret"]?.stringValue)
            let bot = try await server.data(
                "POST", "/v1/projects/\(projectId)/bots", key: key,
                body: """
                    {"id":"bot-1","name":"Sales Bot","channelWebhookUrl":"\(channel.url)"}
                    """)
            channelSecret = try #require(bot["channelSigningSecret"]?.stringValue)
            _ = try await server.data(
                "PUT", "/v1/projects/\(projectId)/users/user-1", key: key, body: #"{"names":"Ana Díaz","referenceId":"+593-99"}"#)
        }

        func channelMessage(_ value: String) async throws -> JSONValue {
            try await server.data(
                "POST", "/v1/projects/\(projectId)/channel/messages", key: key,
                body: #"{"botId":"bot-1","userId":"user-1","value":\#(value)}"#)
        }

        /// Sends an agent reply exactly as a panel would: HMAC over the raw bytes it sends.
        func panelReply(roomId: String, id: String, text: String, secret: String? = nil) async throws -> (Int, String) {
            let body =
                #"{"field":"messages","object":"message_event","event_type":"incoming_message","project_id":"\#(projectId)","room_id":"\#(roomId)","bot_id":"bot-1","user_id":"user-1","value":{"id":"\#(id)","type":"text","content":{"body":"\#(text)"}}}"#
            let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array((secret ?? signingSecret).utf8)))
            return try await server.request(
                "POST", "/v1/external-support/webhook", body: body,
                headers: ["X-Jelou-Signature": "sha256=" + mac.map { String(format: "%02x", $0) }.joined()])
        }

        func tearDown() {
            server.stop()
            panel.stop()
            channel.stop()
            removeTemporaryDirectory(directory)
        }
    }

    static func hexHMAC(_ secret: String, _ bytes: [UInt8]) -> String {
        HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: Array(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    @Test(arguments: StoreContractTests.Backend.allCases)
    func aWholeConversationReachesBothSidesSignedAndInOrder(backend: StoreContractTests.Backend) async throws {
        var world = try await World.make(backend)
        defer { world.tearDown() }
        try await world.configure()

        let started = try await world.server.data(
            "POST", world.base + "/conversations/start", key: world.key,
            body: """
                {"botId":"bot-1","userId":"user-1","initialMessage":"Hola, te atiende un agente","metadata":{"orderId":"A/1","10":true,"2":1.0},"assignment":{"type":"queue","target":"sales"}}
                """)
        let conversationId = try #require(started["_id"]?.stringValue)
        let roomId = try #require(started["roomId"]?.stringValue)
        #expect(started["state"] == "active")

        let routed = try await world.channelMessage(#"{"id":"m-1","type":"text","content":{"body":"Quiero ayuda 😀 / pedido"}}"#)
        #expect(routed == .members(["routedTo": "panel", "conversationId": .string(conversationId)]))
        _ = try await world.channelMessage(
            #"{"id":"m-2","type":"image","content":{"url":"https://cdn.example.com/a.png","mime_type":"image/png","caption":"foto"}}"#)
        _ = try await world.channelMessage(
            #"{"id":"m-3","type":"document","content":{"url":"https://cdn.example.com/f.pdf","mime_type":"application/pdf","filename":"f.pdf"}}"#)
        let repeated = try await world.channelMessage(#"{"id":"m-1","type":"text","content":{"body":"Quiero ayuda 😀 / pedido"}}"#)
        #expect(repeated == routed)  // idempotent: same answer, nothing sent twice

        let reply1 = try await world.panelReply(roomId: roomId, id: "a-1", text: "Hola Ana")
        #expect(reply1.0 == 200)
        #expect(
            reply1.1
                == #"{"message":["Message received"],"statusMessage":"success","status":1,"data":{"messageId":"a-1","conversationId":"\#(conversationId)"}}"#
        )
        #expect(try await world.panelReply(roomId: roomId, id: "a-2", text: "Ya reviso tu pedido").0 == 200)
        #expect(try await world.panelReply(roomId: roomId, id: "a-2", text: "Ya reviso tu pedido").0 == 200)  // repeat

        let closed = try await world.server.data(
            "POST", world.base + "/conversations/close", key: world.key,
            body: """
                {"botId":"bot-1","userId":"user-1","redirectPayload":{"type":"text","text":"Gracias, hasta luego"}}
                """)
        #expect(closed["state"] == "closed")
        #expect(closed["endedReason"] == "closed_by_operator")

        let panelEvents = await world.panel.waitForAccepted(5)
        let channelEvents = await world.channel.waitForAccepted(4)
        #expect(panelEvents.count == 5)
        #expect(channelEvents.count == 4)
        #expect(world.panel.requests.count == 5)  // nothing sent twice
        #expect(
            panelEvents.map { $0.json["event"] ?? $0.json["event_type"] ?? .null }
                == ["conversation.start", "message", "message", "message", "conversation.close"])
        #expect(panelEvents.dropFirst().prefix(3).map { $0.json["value"]?["id"] ?? .null } == ["m-1", "m-2", "m-3"])
        #expect(
            channelEvents.map { $0.json["value"]?["content"]?["body"] ?? .null }
                == ["Hola, te atiende un agente", "Hola Ana", "Ya reviso tu pedido", "Gracias, hasta luego"])

        for event in panelEvents {
            #expect(event.header("X-Jelou-Signature") == "sha256=" + Self.hexHMAC(world.signingSecret, event.body))
            #expect(event.header("Authorization") == "Bearer panel-token-123")
            #expect(event.header("Content-Type") == "application/json")
            #expect(event.header("User-Agent") == "Relevo/\(Release.version)")
            #expect(event.header("webhook-id")?.hasPrefix("evt_") == true)
            #expect(event.json["project_id"] == .string(world.projectId))
            #expect(event.json["room_id"] == .string(roomId))
            #expect(event.json["conversation"]?["id"] == .string(conversationId))
            #expect(event.json["contact"] == .members(["id": "user-1", "name": "Ana Díaz"]))
            #expect(event.json["bot"] == .members(["id": "bot-1", "name": "Sales Bot"]))
            // What a panel verifying with JSON.stringify(JSON.parse(body)) computes is the same bytes.
            #expect(CanonicalJSONWriter.bytes(event.json) == event.body)
        }
        let start = panelEvents[0].text
        #expect(start.hasPrefix(#"{"event":"conversation.start","timestamp":"#))
        #expect(
            start.hasSuffix(
                #","project_id":"\#(world.projectId)","room_id":"\#(roomId)","conversation":{"id":"\#(conversationId)"},"contact":{"id":"user-1","name":"Ana Díaz"},"bot":{"id":"bot-1","name":"Sales Bot"},"initialMessage":"Hola, te atiende un agente","assignment":{"type":"queue","target":"sales"},"metadata":{"2":1,"10":true,"orderId":"A/1"}}"#
            ))
        let message = panelEvents[1].text  // written without a tree: every byte checked here
        #expect(message.hasPrefix(#"{"field":"messages","object":"message_event","event_type":"message","timestamp":"#))
        #expect(
            message.hasSuffix(
                #","project_id":"\#(world.projectId)","room_id":"\#(roomId)","contact":{"id":"user-1","name":"Ana Díaz"},"conversation":{"id":"\#(conversationId)"},"bot":{"id":"bot-1","name":"Sales Bot"},"value":{"id":"m-1","type":"text","content":{"body":"Quiero ayuda 😀 / pedido"}}}"#
            ))
        #expect(panelEvents[4].text.hasSuffix(#""reason":"closed_by_operator","redirectPayload":{"type":"text","text":"Gracias, hasta luego"}}"#))

        for delivery in channelEvents {
            #expect(delivery.header("X-Jelou-Signature") == "sha256=" + Self.hexHMAC(world.channelSecret, delivery.body))
            #expect(delivery.header("Authorization") == nil)
            #expect(delivery.json["event_type"] == "outgoing_message")
            #expect(delivery.json["conversation_id"] == .string(conversationId))
        }

        let history = try await world.server.data("GET", world.base + "/conversations/\(conversationId)?include=messages", key: world.key)
        #expect(history["state"] == "closed")
        #expect(history["User"] == .members(["id": "user-1", "names": "Ana Díaz", "referenceId": "+593-99"]))
        guard case .array(let messages)? = history["messages"] else { Issue.record("no messages"); return }
        #expect(messages.map { $0["direction"] ?? .null } == ["system", "user", "user", "user", "agent", "agent", "system"])
        #expect(messages.map { $0["id"] ?? .null }.dropFirst().prefix(5) == ["m-1", "m-2", "m-3", "a-1", "a-2"])

        // A panel has an event before Relevo records its settlement: the depth read from the store
        // reaches 0 a moment later, so the scrape is repeated until it does (5 s at most).
        let expected = [
            #"relevo_events_queued_total{destination="panel"} 5"#, #"relevo_events_delivered_total{destination="panel"} 5"#,
            #"relevo_events_queued_total{destination="channel"} 4"#, #"relevo_events_delivered_total{destination="channel"} 4"#,
            #"relevo_events_failed_total{destination="panel"} 0"#, "relevo_queue_depth 0.0",
            #"relevo_delivery_attempt_duration_seconds_count{destination="panel"} 5"#,
        ]
        var (metricsStatus, metrics) = try await world.server.request("GET", "/metrics")
        for _ in 0..<50 where !metrics.split(separator: "\n").contains(where: { $0 == "relevo_queue_depth 0.0" }) {
            try await Task.sleep(for: .milliseconds(100))
            (metricsStatus, metrics) = try await world.server.request("GET", "/metrics")
        }
        #expect(metricsStatus == 200)
        for line in expected {
            #expect(metrics.split(separator: "\n").contains { $0 == line }, "\(line) in\n\(metrics)")
        }
    }
}

extension ConversationFlowTests {
    @Test(arguments: StoreContractTests.Backend.allCases)
    func aPanelThatIsDownGetsEverythingLaterInOrder(backend: StoreContractTests.Backend) async throws {
        var world = try await World.make(backend)
        defer { world.tearDown() }
        try await world.configure()
        world.panel.answer(next: [503, 500, 502])  // the first three attempts fail
        let started = try await world.server.data(
            "POST", world.base + "/conversations/start", key: world.key,
            body: #"{"botId":"bot-1","userId":"user-1"}"#)
        let conversationId = try #require(started["_id"]?.stringValue)
        for index in 1...4 {
            _ = try await world.channelMessage(#"{"id":"m-\#(index)","type":"text","content":{"body":"n\#(index)"}}"#)
        }
        let accepted = await world.panel.waitForAccepted(5)
        #expect(accepted.count == 5)
        // The failed attempts were all for the first event: nothing overtook it.
        let all = world.panel.requests
        #expect(all.count == 8)
        #expect(all.prefix(4).allSatisfy { $0.json["event"] == "conversation.start" })
        #expect(all.prefix(4).map(\.status) == [503, 500, 502, 200])
        // Every retry carries the same event id and the same body bytes.
        #expect(Set(all.prefix(4).compactMap { $0.header("webhook-id") }).count == 1)
        #expect(Set(all.prefix(4).map(\.body)).count == 1)
        #expect(accepted.dropFirst().map { $0.json["value"]?["id"] ?? .null } == ["m-1", "m-2", "m-3", "m-4"])
        #expect(accepted.allSatisfy { $0.json["conversation"]?["id"] == .string(conversationId) })
    }

    @Test(arguments: StoreContractTests.Backend.allCases)
    func eventsPendingWhenTheServerIsKilledAreDeliveredAfterRestart(backend: StoreContractTests.Backend) async throws {
        var world = try await World.make(backend)
        defer { world.tearDown() }
        try await world.configure()
        world.panel.answer(always: 500)  // the panel refuses everything for now
        _ = try await world.server.data(
            "POST", world.base + "/conversations/start", key: world.key,
            body: #"{"botId":"bot-1","userId":"user-1"}"#)
        for index in 1...5 {
            _ = try await world.channelMessage(#"{"id":"k-\#(index)","type":"text","content":{"body":"k\#(index)"}}"#)
        }
        try await Task.sleep(for: .milliseconds(400))
        world.server.kill()  // SIGKILL: no graceful shutdown, attempts possibly in flight
        #expect(world.panel.accepted.isEmpty)

        world.panel.answer(always: 200)
        let restarted = try ServerProcess(arguments: world.arguments, directory: world.directory, environment: world.environment)
        defer { restarted.stop() }
        try await restarted.waitUntilListening()
        let accepted = await world.panel.waitForAccepted(6)
        #expect(accepted.count == 6)
        #expect(
            accepted.map { $0.json["event"] ?? $0.json["value"]?["id"] ?? .null }
                == ["conversation.start", "k-1", "k-2", "k-3", "k-4", "k-5"])
        // At-least-once: a duplicate is possible only for an attempt cut by the kill, never a loss.
        #expect(Set(accepted.compactMap { $0.header("webhook-id") }).count == 6)
    }
}

extension ConversationFlowTests {
    @Test(arguments: StoreContractTests.Backend.allCases)
    func channelDeliveriesWaitForABotURLThenGoInOrder(backend: StoreContractTests.Backend) async throws {
        var world = try await World.make(backend)
        defer { world.tearDown() }
        try await world.configure()
        _ = try await world.server.data(
            "POST", "/v1/projects/\(world.projectId)/bots", key: world.key,
            body: #"{"id":"bot-2","name":"Quiet Bot"}"#)
        let started = try await world.server.data(
            "POST", world.base + "/conversations/start", key: world.key,
            body: #"{"botId":"bot-2","userId":"user-1","initialMessage":"first"}"#)
        let roomId = try #require(started["roomId"]?.stringValue)
        let body =
            #"{"field":"messages","object":"message_event","event_type":"incoming_message","project_id":"\#(world.projectId)","room_id":"\#(roomId)","bot_id":"bot-2","user_id":"user-1","value":{"id":"h-1","type":"text","content":{"body":"second"}}}"#
        let signed = try await world.server.request(
            "POST", "/v1/external-support/webhook", body: body,
            headers: ["X-Jelou-Signature": "sha256=" + Self.hexHMAC(world.signingSecret, Array(body.utf8))])
        #expect(signed.0 == 200)
        try await Task.sleep(for: .milliseconds(300))
        #expect(world.channel.requests.isEmpty)  // held: the bot has nowhere to deliver yet

        _ = try await world.server.data(
            "PATCH", "/v1/projects/\(world.projectId)/bots/bot-2", key: world.key,
            body: #"{"channelWebhookUrl":"\#(world.channel.url)"}"#)
        let delivered = await world.channel.waitForAccepted(2)
        #expect(delivered.map { $0.json["value"]?["content"]?["body"] ?? .null } == ["first", "second"])
    }

    /// Deletion cancels what is queued and does not abort an attempt already sent (E4; the settlement
    /// of a late answer leaves its event cancelled). The panel holds the first attempt, so exactly one
    /// is known to be in flight when the integration goes: no race with the retry schedule.
    @Test(arguments: StoreContractTests.Backend.allCases)
    func deletingTheIntegrationCancelsItsQueueAndClosesConversations(backend: StoreContractTests.Backend) async throws {
        var world = try await World.make(backend)
        defer { world.tearDown() }
        try await world.configure()
        world.panel.hold()
        let started = try await world.server.data(
            "POST", world.base + "/conversations/start", key: world.key,
            body: #"{"botId":"bot-1","userId":"user-1"}"#)
        let conversationId = try #require(started["_id"]?.stringValue)
        _ = try await world.channelMessage(#"{"id":"d-1","type":"text","content":{"body":"hello?"}}"#)
        // conversation.start is at the panel, unanswered; the message waits behind it (same conversation).
        try #require(await world.panel.waitForArrivals(1) == 1)

        #expect(try await world.server.request("DELETE", world.base, key: world.key).0 == 200)
        let after = try await world.server.data("GET", world.base + "/conversations/\(conversationId)", key: world.key)
        #expect(after["state"] == "closed")
        #expect(after["endedReason"] == "integration_deleted")

        // The attempt in flight gets an accepting answer: were the queue not cancelled, the event
        // would be delivered and the message sent right after it.
        world.panel.answer(always: 200)
        world.panel.release()
        let answered = await world.panel.waitForRequests(1)
        #expect(answered.map { $0.json["event"] ?? .null } == ["conversation.start"])
        let inFlightId = try #require(answered.first?.header("webhook-id"))
        let settled = try await Self.waitForAttempts(world, eventId: inFlightId, count: 1)
        #expect(settled["status"] == "cancelled")  // the late 200 is recorded, and does not revive the event
        guard case .array(let attempts)? = settled["attempts"] else { Issue.record("no attempts"); return }
        #expect(attempts.map { $0["statusCode"] ?? .null } == [200])

        try await Task.sleep(for: .milliseconds(900))  // three retry intervals
        #expect(world.panel.arrivals == 1)  // nothing queued at deletion is sent afterwards
        let log = try await world.server.data("GET", world.base + "/events", key: world.key)
        guard case .array(let events)? = log["events"] else { Issue.record("no events"); return }
        let panelEvents = events.filter { $0["destination"] == "panel" }
        #expect(panelEvents.map { $0["eventType"] ?? .null } == ["message", "conversation.start"])  // newest first
        #expect(panelEvents.allSatisfy { $0["status"] == "cancelled" })
        let routed = try await world.channelMessage(#"{"id":"d-2","type":"text","content":{"body":"anyone?"}}"#)
        #expect(routed == .members(["routedTo": "bot"]))
    }

    /// Waits until the event shows `count` recorded attempts (its settlement committed); its detail.
    static func waitForAttempts(_ world: World, eventId: String, count: Int) async throws -> JSONValue {
        var detail: JSONValue = .null
        for _ in 0..<400 {
            detail = try await world.server.data("GET", world.base + "/events/\(eventId)", key: world.key)
            if case .array(let attempts)? = detail["attempts"], attempts.count >= count { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        return detail
    }
}
