import Foundation
import RelevoPanelClient
import RelevoPanelKit
import Testing

/// RelevoPanelKit and RelevoPanelClient against the real binary: a live Relevo, a live panel and a
/// live channel on loopback. What the panel receives is verified and typed by the SDK; what the SDK
/// sends is accepted by Relevo.
@Suite("Panel SDK against a live Relevo", .serialized)
struct PanelClientTests {
    @Test func aPanelDoesItsWholeJobThroughTheSDK() async throws {
        let world = try await ConversationFlowTests.World.make()
        defer { world.tearDown() }
        let relevo = RelevoClient(baseURL: "http://127.0.0.1:\(world.server.port)", projectId: world.projectId, apiKey: world.key)

        // No integration yet: the envelope's key comes through.
        await #expect(throws: RelevoAPIError.self) { try await relevo.integration() }
        do {
            _ = try await relevo.integration()
        } catch let error as RelevoAPIError {
            #expect(error.status == 404 && error.key == "INTEGRATION_NOT_FOUND")
        }
        let created = try await relevo.createIntegration(webhookUrl: world.panel.url, auth: .bearer("panel-token-123"))
        #expect(created.signingSecret.count == 64)
        #expect(try await relevo.integration() == created.integration)
        #expect(created.integration.authType == "bearer" && created.integration.projectId == world.projectId)
        let secret = SigningSecret(created.signingSecret)

        // The platform side (a bot with a channel, a user) through the raw API.
        let bot = try await world.server.request(
            "POST", "/v1/projects/\(world.projectId)/bots", key: world.key,
            body: #"{"id":"sales","name":"Sales <b>Bot</b>","channelWebhookUrl":"\#(world.channel.url)"}"#)
        #expect(bot.0 == 200)
        #expect(
            try await world.server.request("PUT", "/v1/projects/\(world.projectId)/users/ana", key: world.key, body: #"{"names":"Ana"}"#).0 == 200)

        let conversation = try await relevo.startConversation(
            botId: "sales", userId: "ana", initialMessage: "Te paso con un agente", metadata: ["page": "/precios", "tries": .number(2)],
            assignment: Assignment(type: "queue", target: "ventas"))
        #expect(conversation.state == .active && conversation.bot.id == "sales" && conversation.bot.name == "Sales <b>Bot</b>")
        #expect(conversation.metadata == ["page": "/precios", "tries": .number(2)])

        // conversation.start arrives verified and typed.
        let verifier = WebhookVerifier(secrets: [secret])
        let seen = DeliveryDeduplicator()
        let startRequest = try #require(await world.panel.waitForAccepted(1).first)
        let startDelivery = try verifier.verify(headers: startRequest.headers, body: startRequest.body)
        try verifier.verifyJelouSignature(startRequest.header("x-jelou-signature"), body: startRequest.body)
        #expect(seen.isFirstDelivery(startDelivery.webhookId))
        guard case .conversationStart(let start) = try startDelivery.event() else {
            Issue.record("not a conversation.start: \(startRequest.text)")
            return
        }
        #expect(start.conversationId == conversation.id && start.contact == Contact(id: "ana", name: "Ana"))
        #expect(start.initialMessage == "Te paso con un agente" && start.assignment == Assignment(type: "queue", target: "ventas"))
        #expect(start.metadata == ["page": "/precios", "tries": .number(2)])

        // The user writes; the message arrives typed; the agent answers through the SDK; the channel gets it.
        let written = try await world.server.request(
            "POST", "/v1/projects/\(world.projectId)/channel/messages", key: world.key,
            body:
                #"{"botId":"sales","userId":"ana","value":{"id":"wamid-1","type":"image","content":{"url":"https://cdn.example.com/p.jpg","mime_type":"image/jpeg","caption":"foto"}}}"#
        )
        #expect(written.0 == 200)
        let messageRequest = try #require(await world.panel.waitForAccepted(2).last)
        let messageDelivery = try verifier.verify(headers: messageRequest.headers, body: messageRequest.body)
        guard case .message(let message) = try messageDelivery.event() else {
            Issue.record("not a message: \(messageRequest.text)")
            return
        }
        #expect(
            message.value
                == MessageValue(id: "wamid-1", content: .image(url: "https://cdn.example.com/p.jpg", mimeType: "image/jpeg", caption: "foto")))
        let reply = AgentReply(answering: message, value: MessageValue(id: "agent-1", content: .text("Ya lo reviso \"ahora\" 🚚")))
        let receipt = try await relevo.send(reply, secret: secret)
        #expect(receipt.messageId == "agent-1" && receipt.conversationId == conversation.id)
        // The initial message, then the agent's reply, reach the channel.
        let delivered = await world.channel.waitForAccepted(2)
        #expect(delivered.count == 2 && delivered.last?.text.contains(#""body":"Ya lo reviso \"ahora\" 🚚""#) == true)
        // A reply signed with another secret is refused with the envelope's key.
        await #expect(throws: RelevoAPIError.self) {
            try await relevo.send(
                AgentReply(answering: message, value: MessageValue(id: "agent-x", content: .text("x"))), secret: SigningSecret("wrong"))
        }

        let history = try await relevo.conversation(id: conversation.id, includeMessages: true)
        #expect(history.messages?.map(\.direction) == [.system, .user, .agent])
        #expect(history.messages?.last?.value == reply.value)
        #expect(try await relevo.conversation(id: conversation.id).messages == nil)

        // The event log: the panel's two events, newest first; one redelivered arrives again with its id.
        let panelEvents = try await relevo.events(conversationId: conversation.id).items.filter { $0.destination == "panel" }
        #expect(panelEvents.map(\.eventType) == ["message", "conversation.start"])
        let logged = try await relevo.event(id: startDelivery.webhookId)
        #expect(logged.status == .delivered && logged.attempts?.first?.statusCode == 200)
        #expect(logged.body?["event"] == "conversation.start")
        try await relevo.redeliver(eventId: startDelivery.webhookId)
        let again = try #require(await world.panel.waitForAccepted(3).last)
        #expect(try verifier.verify(headers: again.headers, body: again.body).webhookId == startDelivery.webhookId)
        #expect(!seen.isFirstDelivery(startDelivery.webhookId), "a redelivery is a repeat for the deduplicator")
        #expect(try await relevo.redeliverFailed(since: Date(timeIntervalSinceNow: -3600)) == 0)

        // A rotation with a grace period: replies signed with the old secret still pass; events carry both.
        let rotated = try await relevo.regenerateSecret(grace: .seconds(600))
        #expect(rotated.signingSecret != created.signingSecret)
        try await relevo.send(AgentReply(answering: message, value: MessageValue(id: "agent-2", content: .text("old secret"))), secret: secret)

        // Paging the conversation list.
        #expect(
            try await world.server.request("PUT", "/v1/projects/\(world.projectId)/users/luis", key: world.key, body: #"{"names":"Luis"}"#).0 == 200)
        let second = try await relevo.startConversation(botId: "sales", userId: "luis")
        let first = try await relevo.conversations(state: .active, limit: 1)
        #expect(first.items.map(\.id) == [second.id])
        let rest = try await relevo.conversations(state: .active, limit: 1, cursor: first.nextCursor)
        #expect(rest.items.map(\.id) == [conversation.id] && rest.nextCursor == nil)
        #expect(try await relevo.conversations(userId: "luis").items.map(\.user.id) == ["luis"])

        let closed = try await relevo.closeConversation(botId: "sales", userId: "ana", redirect: .text("Gracias"))
        #expect(closed.state == .closed && closed.endedReason == "closed_by_operator")
        let closeRequest = try #require(
            await world.panel.waitForAccepted(5).first { $0.text.contains(#""event":"conversation.close""#) && $0.text.contains(conversation.id) })
        // Signed with the new secret, and (in the grace period) with the old one too.
        for key in [rotated.signingSecret, created.signingSecret] {
            let delivery = try WebhookVerifier(secrets: [key]).verify(headers: closeRequest.headers, body: closeRequest.body)
            guard case .conversationClose(let close) = try delivery.event() else {
                Issue.record("not a close")
                return
            }
            #expect(close.redirect == .text("Gracias") && close.reason == "closed_by_operator")
        }

        // Bad input comes back as the envelope's key and each field's message.
        do {
            _ = try await relevo.startConversation(botId: "no spaces", userId: "")
            Issue.record("an invalid start was accepted")
        } catch let error as RelevoAPIError {
            #expect(error.status == 422 && error.key == "VALIDATOR_ERROR")
            #expect(Set(error.fieldErrors.keys) == ["botId", "userId"])
        }
        let stranger = RelevoClient(baseURL: relevo.baseURL, projectId: world.projectId, apiKey: "rlv_not-a-key")
        do {
            _ = try await stranger.events()
            Issue.record("a wrong key was accepted")
        } catch let error as RelevoAPIError {
            #expect(error.status == 401 && error.key == "UNAUTHORIZED")
        }

        try await relevo.deleteIntegration()
        await #expect(throws: RelevoAPIError.self) { try await relevo.integration() }
    }
}
