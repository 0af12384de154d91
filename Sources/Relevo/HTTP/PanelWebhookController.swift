import HTTPTypes
import Hummingbird

/// §6: agent messages from the panel. No API key: the HMAC of the raw body is the authentication.
///
/// Checks run in the contract's order: transfer coding (501) → size (413) → media type and content
/// coding (415) → JSON (400) → project and integration (401, the
/// same answer as a bad signature) → signature over the bytes as received (401) → fields (422) →
/// room (404) → active conversation (409).
struct PanelWebhookController {
    let conversations: ConversationService

    func register(in routes: inout RouteTable) {
        for prefix in RouteTable.prefixes {
            routes.open(.post, "\(prefix)/external-support/webhook", receive)
        }
    }

    @Sendable func receive(_ request: Request, _ context: RelevoRequestContext) async throws -> Response {
        guard let raw = try await RequestBody.rawBytes(request) else {
            throw RequestError.unreadableBody(.notAnObject(found: nil))
        }
        let body = try RequestBody.object(from: raw)  // parsed for reading; the signature covers `raw` as received
        guard case .string(let projectId)? = body["project_id"], Identifier.isValid(projectId) else {
            throw DomainError.invalidSignature
        }
        try await conversations.verifyPanelSignature(
            projectId: projectId, body: raw, signature: request.headers[HTTPField.Name("X-Jelou-Signature")!])
        let fields = FieldReader(body)
        for (field, expected) in [("field", "messages"), ("object", "message_event"), ("event_type", "incoming_message")]
        where body[field] != .string(expected) {
            fields.add(
                field,
                LocalizedText(
                    en: "\(field) must be \"\(expected)\"", es: "\(field) debe ser \"\(expected)\"",
                    pt: "\(field) deve ser \"\(expected)\""))
        }
        let roomId = fields.identifier("room_id"), botId = fields.identifier("bot_id"), userId = fields.identifier("user_id")
        let value = fields.messageValue()
        guard let roomId, let botId, let userId, let value, fields.problems.isEmpty else {
            throw DomainError.invalidFields(fields.problems)
        }
        let receipt = try await conversations.receiveFromPanel(
            AgentReply(projectId: projectId, roomId: roomId, botId: botId, userId: userId, value: value))
        return JSONResponse.success("Message received", canonicalData: receipt.data)
    }
}
