import HTTPTypes
import Logging
import RelevoPanelClient
import RelevoPanelKit

/// What the panel does with one request: authenticate it, skip a repeat, act on the event.
struct EventHandler: Sendable {
    let verifier: WebhookVerifier
    let replies: ReplySender
    /// The bearer token Relevo presents, if the integration has one.
    let token: String?
    let logger: Logger
    /// Event ids already processed; a retry of one of them is answered 2xx and skipped.
    let seen = DeliveryDeduplicator(capacity: 100_000)

    func handle(headers: HTTPFields, body: [UInt8]) async -> HTTPResponse.Status {
        // The credential first: a cheap check that turns away what is not Relevo's.
        if let token, headers[.authorization] != "Bearer \(token)" { return .unauthorized }
        let delivery: VerifiedDelivery
        do {
            delivery = try verifier.verify(headers: headers, body: body)
        } catch {
            logger.warning("refused a request", metadata: ["reason": "\(error)"])
            return .unauthorized
        }
        guard seen.isFirstDelivery(delivery.webhookId) else { return .ok }
        do {
            try await act(on: try delivery.event())
            return .ok
        } catch {
            // Not processed: Relevo sends it again later, and it is processed then.
            seen.forget(delivery.webhookId)
            logger.error("event not processed", metadata: ["event": "\(delivery.webhookId)", "reason": "\(error)"])
            return .internalServerError
        }
    }

    /// Logs the event; answers a text message with its echo. The reply is sent before the event is
    /// answered: Relevo sends a conversation's next event only after this one's answer, so the
    /// echoes keep the order of the messages.
    private func act(on event: PanelEvent) async throws {
        switch event {
        case .conversationStart(let start):
            logger.info("conversation.start", metadata: ["conversation": "\(start.conversationId)", "contact": "\(start.contact.id)"])
        case .message(let message):
            logger.info("message", metadata: ["conversation": "\(message.conversationId)", "message": "\(message.value.id)"])
            guard case .text(let text) = message.value.content else { return }
            let echo = MessageValue(id: "echo-" + message.value.id, content: .text("echo: " + text))
            try await replies.send(AgentReply(answering: message, value: echo))
        case .conversationClose(let close):
            logger.info("conversation.close", metadata: ["conversation": "\(close.conversationId)", "reason": "\(close.reason)"])
        case .unknown(let type, _):
            logger.info("event of a type this panel does not know", metadata: ["type": "\(type)"])
        }
    }
}
