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
            throw DomainError.unreadableBody(.notAnObject(found: nil))
        }
        let body = try RequestBody.object(from: raw)  // parsed for reading; the signature covers `raw` as received
        let receipt = try await conversations.receiveFromPanel(
            body: body, rawBody: raw, signature: request.headers[HTTPField.Name("X-Jelou-Signature")!])
        return JSONResponse.success("Message received", canonicalData: receipt.data)
    }
}
