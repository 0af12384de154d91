/// The rules of conversations (E6–E8), channel messages (§7.3) and agent replies (§6).
///
/// Every change is written together with the events it causes (``ConversationStore``), so a
/// conversation never changes without its events, nor an event exist without its change.
package struct ConversationService: Sendable {
    let store: any RelevoStore
    let bots: BotService
    let integrations: IntegrationService
    let metrics: DeliveryMetrics?
    let now: @Sendable () -> Timestamp

    package init(store: any RelevoStore, bots: BotService, integrations: IntegrationService, metrics: DeliveryMetrics? = nil,
                now: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.store = store
        self.metrics = metrics
        self.bots = bots
        self.integrations = integrations
        self.now = now
    }

    static let maximumMetadataBytes = 16 * 1024

    /// E6.
    package func start(projectId: String, body: JSONValue) async throws -> ConversationView {
        var errors = ValidationErrors()
        let botId = Self.identifier(body, "botId", &errors)
        let userId = Self.identifier(body, "userId", &errors)
        let initialMessage = BotService.optionalString(body, "initialMessage", maximum: MessageValue.maximumTextLength, &errors)
        if initialMessage?.isEmpty == true { errors.required("initialMessage") }
        let metadata = Self.metadata(body, &errors)
        let assignment = Self.assignment(body, &errors)
        try errors.check()

        let bot = try await bots.bot(projectId: projectId, id: botId!)
        let user = try await bots.user(projectId: projectId, id: userId!)
        guard try await store.integration(projectId: projectId) != nil else {
            throw DomainError.integrationNotFound(projectId: projectId)
        }
        let time = now()
        let room = try await store.ensureRoom(projectId: projectId, botId: bot.id, userId: user.id, newId: Identifier.generate(), at: time)
        let conversation = Conversation(
            projectId: projectId, id: Identifier.generate(), roomId: room.id, botId: bot.id, userId: user.id,
            state: .active, startAt: time, assignment: assignment, metadata: metadata)
        let context = EventPayloads.Context(projectId: projectId, room: room, conversationId: conversation.id, user: user, bot: bot, time: time)
        var events = [OutboxEvent.make(
            projectId: projectId, destination: .panel, conversationId: conversation.id, eventType: "conversation.start",
            body: EventPayloads.conversationStart(context, initialMessage: initialMessage, assignment: assignment, metadata: metadata),
            at: time)]
        var messages: [ConversationMessage] = []
        if let initialMessage {
            let value = MessageValue(id: "msg_" + SecureRandom.hex(byteCount: 12), kind: .text, content: .members(["body": .string(initialMessage)]))
            messages.append(ConversationMessage(conversationId: conversation.id, id: value.id, direction: .system,
                                                type: "text", content: value.content, createdAt: time))
            events.append(channelEvent(context, bot: bot, type: "outgoing_message", body: EventPayloads.outgoingMessage(context, value: value)))
        }
        do {
            try await store.startConversation(conversation, messages: messages, events: events)
        } catch StoreError.conflict {
            throw DomainError.conversationAlreadyActive(roomId: room.id)
        }
        metrics?.queued(events)
        return ConversationView(conversation: conversation, user: user, bot: bot, messages: nil)
    }

    /// E7.
    package func close(projectId: String, body: JSONValue) async throws -> ConversationView {
        var errors = ValidationErrors()
        let botId = Self.identifier(body, "botId", &errors)
        let userId = Self.identifier(body, "userId", &errors)
        let redirect = Self.redirect(body, &errors)
        try errors.check()

        let bot = try await bots.bot(projectId: projectId, id: botId!)
        let user = try await bots.user(projectId: projectId, id: userId!)
        guard let room = try await store.room(projectId: projectId, botId: bot.id, userId: user.id),
              let active = try await store.activeConversation(projectId: projectId, roomId: room.id)
        else { throw DomainError.conversationNotActive }
        let time = now()
        let reason = "closed_by_operator"
        let context = EventPayloads.Context(projectId: projectId, room: room, conversationId: active.id, user: user, bot: bot, time: time)
        var events: [OutboxEvent] = []
        var messages: [ConversationMessage] = []
        switch redirect?["type"] {
        case .string("text")?:
            guard case .string(let text)? = redirect?["text"] else { break }
            let value = MessageValue(id: "msg_" + SecureRandom.hex(byteCount: 12), kind: .text, content: .members(["body": .string(text)]))
            messages.append(ConversationMessage(conversationId: active.id, id: value.id, direction: .system, type: "text",
                                                content: value.content, createdAt: time))
            events.append(channelEvent(context, bot: bot, type: "outgoing_message", body: EventPayloads.outgoingMessage(context, value: value)))
        case .string("edge")?:
            guard case .string(let edgeId)? = redirect?["edgeId"] else { break }
            events.append(channelEvent(context, bot: bot, type: "bot.resume", body: EventPayloads.botResume(context, edgeId: edgeId)))
        default: break
        }
        events.append(OutboxEvent.make(
            projectId: projectId, destination: .panel, conversationId: active.id, eventType: "conversation.close",
            body: EventPayloads.conversationClose(context, reason: reason, redirect: redirect), at: time))
        guard let closed = try await store.closeConversation(
            projectId: projectId, conversationId: active.id, at: time, reason: reason, messages: messages, events: events)
        else { throw DomainError.conversationNotActive }
        metrics?.queued(events)
        return ConversationView(conversation: closed, user: user, bot: bot, messages: nil)
    }

    /// E8.
    package func get(projectId: String, conversationId: String, includeMessages: Bool) async throws -> ConversationView {
        guard let conversation = try await store.conversation(projectId: projectId, id: conversationId) else {
            throw DomainError.notFound(.conversation, id: conversationId)
        }
        let user = try await store.user(projectId: projectId, id: conversation.userId)
        let bot = try await store.bot(projectId: projectId, id: conversation.botId)
        let messages = includeMessages ? try await store.messages(projectId: projectId, conversationId: conversation.id) : nil
        return ConversationView(conversation: conversation, user: user, bot: bot, messages: messages)
    }

    /// A channel delivery, held while the bot has no channel URL.
    func channelEvent(_ context: EventPayloads.Context, bot: Bot, type: String, body: JSONValue) -> OutboxEvent {
        OutboxEvent.make(projectId: context.projectId, destination: .channel(botId: bot.id), conversationId: context.conversationId,
                         eventType: type, body: body, held: bot.channelWebhookUrl == nil, at: context.time)
    }

    static func identifier(_ body: JSONValue, _ field: String, _ errors: inout ValidationErrors) -> String? {
        switch body[field] {
        case .string(let text)? where Identifier.isValid(text): return text
        case nil, .null?: errors.required(field); return nil
        default: errors.invalidIdentifier(field); return nil
        }
    }

    private static func metadata(_ body: JSONValue, _ errors: inout ValidationErrors) -> JSONValue? {
        switch body["metadata"] {
        case nil, .null?: return nil
        case let value? where { if case .object = value { true } else { false } }():
            if CanonicalJSONWriter.bytes(value).count > maximumMetadataBytes {
                errors.add("metadata", LocalizedText(
                    en: "metadata must be at most 16 KiB once serialized", es: "metadata debe ocupar como máximo 16 KiB serializado",
                    pt: "metadata deve ter no máximo 16 KiB serializado"))
            }
            return value
        default: errors.wrongType("metadata", expected: "object"); return nil
        }
    }

    private static func assignment(_ body: JSONValue, _ errors: inout ValidationErrors) -> JSONValue? {
        guard let value = body["assignment"], value != .null else { return nil }
        guard case .object = value else { errors.wrongType("assignment", expected: "object"); return nil }
        guard case .string(let type)? = value["type"], ["queue", "operator", "team"].contains(type) else {
            errors.add("assignment.type", LocalizedText(
                en: "assignment.type must be one of queue, operator, team", es: "assignment.type debe ser uno de queue, operator, team",
                pt: "assignment.type deve ser um de queue, operator, team"))
            return nil
        }
        guard case .string(let target)? = value["target"], !target.isEmpty, target.javaScriptLength <= 256 else {
            errors.add("assignment.target", LocalizedText(
                en: "assignment.target must be a string of 1-256 characters", es: "assignment.target debe ser un texto de 1 a 256 caracteres",
                pt: "assignment.target deve ser um texto de 1 a 256 caracteres"))
            return nil
        }
        return .members(["type": .string(type), "target": .string(target)])
    }

    private static func redirect(_ body: JSONValue, _ errors: inout ValidationErrors) -> JSONValue? {
        guard let value = body["redirectPayload"], value != .null else { return nil }
        guard case .object = value else { errors.wrongType("redirectPayload", expected: "object"); return nil }
        switch value["type"] {
        case .string("text")?:
            guard case .string(let text)? = value["text"], !text.isEmpty else { errors.required("redirectPayload.text"); return nil }
            if text.javaScriptLength > MessageValue.maximumTextLength { errors.tooLong("redirectPayload.text", maximum: MessageValue.maximumTextLength); return nil }
            return .members(["type": "text", "text": .string(text)])
        case .string("edge")?:
            guard case .string(let edgeId)? = value["edgeId"], Identifier.isValid(edgeId) else {
                errors.invalidIdentifier("redirectPayload.edgeId"); return nil
            }
            return .members(["type": "edge", "edgeId": .string(edgeId)])
        default:
            errors.add("redirectPayload.type", LocalizedText(
                en: "redirectPayload.type must be text or edge", es: "redirectPayload.type debe ser text o edge",
                pt: "redirectPayload.type deve ser text ou edge"))
            return nil
        }
    }
}

/// A conversation as E6–E8 answer it.
package struct ConversationView: Sendable {
    package let conversation: Conversation
    package let user: EndUser?
    package let bot: Bot?
    package let messages: [ConversationMessage]?

    var json: JSONValue {
        let c = conversation
        return .members([
            "_id": .string(c.id), "roomId": .string(c.roomId), "state": .string(c.state.rawValue),
            "startAt": .string(c.startAt.iso8601), "endAt": c.endAt.map { .string($0.iso8601) },
            "endedReason": c.endedReason.map(JSONValue.string),
            "assignment": c.assignment ?? .null, "metadata": c.metadata ?? .object([]),
            "User": .members([
                "id": .string(c.userId), "names": .string(user?.names ?? ""),
                "referenceId": user?.referenceId.map(JSONValue.string) ?? .null,
            ]),
            "Bot": .members(["id": .string(c.botId), "name": .string(bot?.name ?? "")]),
            "messages": messages.map { .array($0.map(\.json)) },
        ])
    }
}
