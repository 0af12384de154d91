/// What the rules of the domain refuse, for the caller to hear about.
///
/// Services throw these; ``ErrorEnvelope`` is the one place that turns them (and the HTTP layer's
/// own ``RequestError``) into the contract's error envelope (§1.4), so a status code or error key is
/// decided once.
package enum DomainError: Error, Sendable, Equatable {
    /// Missing, unknown or revoked API key, or a key of another project (401 `UNAUTHORIZED`).
    case unauthorized
    /// The project has no integration (404 `INTEGRATION_NOT_FOUND`).
    case integrationNotFound(projectId: String)
    /// A second create for the same project (409 `INTEGRATION_ALREADY_EXISTS`).
    case integrationAlreadyExists(projectId: String)
    /// Fields that cannot be accepted, each with what is wrong with it; the HTTP layer answers 422
    /// `VALIDATOR_ERROR`, or 400 `BAD_REQUEST` on an update, as E3 does.
    case invalidFields(ValidationErrors)
    /// A bot, user, room, conversation or event that does not exist in the project (404 `<RESOURCE>_NOT_FOUND`).
    case notFound(Resource, id: String)
    /// A create with an id already taken (409 `<RESOURCE>_ALREADY_EXISTS`).
    case alreadyExists(resource: String, id: String)
    /// Start while the room has an active conversation (409).
    case conversationAlreadyActive(roomId: String)
    /// Close, or a panel message, without an active conversation (409).
    case conversationNotActive
    /// Redeliver of an event that is not delivered or failed (409 `EVENT_NOT_REDELIVERABLE`).
    case eventNotRedeliverable(status: String)
    /// §6: unknown project, no integration, or a wrong signature — indistinguishable on purpose (401).
    case invalidSignature
    /// The bot has no web chat (404 `WEBCHAT_NOT_FOUND`).
    case webChatNotFound(botId: String)
    /// A web chat call from a page whose origin the web chat does not allow (403 `ORIGIN_NOT_ALLOWED`).
    case originNotAllowed
    /// A web chat call without a visitor token, or with one expired or made for another bot (401 `VISITOR_UNAUTHORIZED`).
    case visitorUnauthorized
    /// A site's user id whose HMAC does not verify, or a web chat without identity verification (403 `IDENTITY_NOT_VERIFIED`).
    case identityNotVerified
}

/// What a 404 names.
package enum Resource: String, Sendable {
    case bot = "BOT", user = "USER", conversation = "CONVERSATION", room = "ROOM", event = "EVENT"

    /// "The … does not exist in this project", in each language of the envelope.
    var doesNotExist: LocalizedText {
        switch self {
        case .bot:
            LocalizedText(
                en: "The bot does not exist in this project", es: "El bot no existe en este proyecto",
                pt: "O bot não existe neste projeto")
        case .user:
            LocalizedText(
                en: "The user does not exist in this project", es: "El usuario no existe en este proyecto",
                pt: "O usuário não existe neste projeto")
        case .conversation:
            LocalizedText(
                en: "The conversation does not exist in this project",
                es: "La conversación no existe en este proyecto", pt: "A conversa não existe neste projeto")
        case .room:
            LocalizedText(
                en: "The room does not exist in this project", es: "La sala no existe en este proyecto",
                pt: "A sala não existe neste projeto")
        case .event:
            LocalizedText(
                en: "The event does not exist in this project", es: "El evento no existe en este proyecto",
                pt: "O evento não existe neste projeto")
        }
    }
}
