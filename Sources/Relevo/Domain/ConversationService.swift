/// The rules of conversations (E6–E8), channel messages (§7.3) and agent replies (§6).
///
/// Every change is written together with the events it causes (``ConversationStore``), so a
/// conversation never changes without its events, nor an event exist without its change.
package struct ConversationService: Sendable {
    let store: any RelevoStore
    let bots: BotService
    let integrations: IntegrationService
    let metrics: DeliveryMetrics?
    /// Woken after every change of a web chat room's history.
    let transcripts: TranscriptSignal
    let cursors: PageCursor
    let now: @Sendable () -> Timestamp

    package init(
        store: any RelevoStore, bots: BotService, integrations: IntegrationService, secrets: SecretBox, metrics: DeliveryMetrics? = nil,
        transcripts: TranscriptSignal = TranscriptSignal(), now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.store = store
        self.transcripts = transcripts
        cursors = PageCursor(secrets: secrets, list: .conversations)
        self.metrics = metrics
        self.bots = bots
        self.integrations = integrations
        self.now = now
    }

    /// The largest `metadata` of a conversation, serialized.
    static let maximumMetadataBytes = 16 * 1024

    /// E6.
    package func start(projectId: String, _ request: ConversationStart, viaWebChat: Bool = false) async throws -> ConversationView {
        let (initialMessage, metadata, assignment) = (request.initialMessage, request.metadata, request.assignment)
        let bot = try await bots.bot(projectId: projectId, id: request.botId)
        let user = try await bots.user(projectId: projectId, id: request.userId)
        guard try await store.integration(projectId: projectId) != nil else {
            throw DomainError.integrationNotFound(projectId: projectId)
        }
        let time = now()
        let room = try await store.ensureRoom(
            projectId: projectId, botId: bot.id, userId: user.id, newId: Identifier.generate(), viaWebChat: viaWebChat, at: time)
        let conversation = Conversation(
            projectId: projectId, id: Identifier.generate(), roomId: room.id, botId: bot.id, userId: user.id,
            state: .active, startAt: time, assignment: assignment, metadata: metadata)
        let context = EventPayloads.Context(projectId: projectId, room: room, conversationId: conversation.id, user: user, bot: bot, time: time)
        var events = [
            OutboxEvent.make(
                projectId: projectId, destination: .panel, conversationId: conversation.id, eventType: "conversation.start",
                body: EventPayloads.conversationStart(context, initialMessage: initialMessage, assignment: assignment, metadata: metadata),
                at: time)
        ]
        var messages: [ConversationMessage] = []
        if let initialMessage {
            let value = MessageValue(id: "msg_" + SecureRandom.hex(byteCount: 12), kind: .text, content: .members(["body": .string(initialMessage)]))
            messages.append(
                ConversationMessage(
                    conversationId: conversation.id, id: value.id, direction: .system,
                    type: "text", content: value.content, createdAt: time))
            events += channelEvent(context, bot: bot, type: "outgoing_message", body: EventPayloads.outgoingMessage(context, value: value))
        }
        do {
            try await store.startConversation(conversation, messages: messages, events: events)
        } catch StoreError.conflict {
            throw DomainError.conversationAlreadyActive(roomId: room.id)
        }
        metrics?.queued(events)
        if room.viaWebChat { transcripts.changed(projectId: projectId, roomId: room.id) }
        return ConversationView(conversation: conversation, user: user, bot: bot, messages: nil)
    }

    /// E7.
    package func close(projectId: String, _ request: ConversationClose) async throws -> ConversationView {
        let bot = try await bots.bot(projectId: projectId, id: request.botId)
        let user = try await bots.user(projectId: projectId, id: request.userId)
        guard let room = try await store.room(projectId: projectId, botId: bot.id, userId: user.id),
            let active = try await store.activeConversation(projectId: projectId, roomId: room.id)
        else { throw DomainError.conversationNotActive }
        let time = now()
        let reason = "closed_by_operator"
        let context = EventPayloads.Context(projectId: projectId, room: room, conversationId: active.id, user: user, bot: bot, time: time)
        var events: [OutboxEvent] = []
        var messages: [ConversationMessage] = []
        switch request.redirect {
        case .text(let text)?:
            let value = MessageValue(id: "msg_" + SecureRandom.hex(byteCount: 12), kind: .text, content: .members(["body": .string(text)]))
            messages.append(
                ConversationMessage(
                    conversationId: active.id, id: value.id, direction: .system, type: "text",
                    content: value.content, createdAt: time))
            events += channelEvent(context, bot: bot, type: "outgoing_message", body: EventPayloads.outgoingMessage(context, value: value))
        case .edge(let edgeId)?:
            events += channelEvent(context, bot: bot, type: "bot.resume", body: EventPayloads.botResume(context, edgeId: edgeId))
        case nil: break
        }
        events.append(
            OutboxEvent.make(
                projectId: projectId, destination: .panel, conversationId: active.id, eventType: "conversation.close",
                body: EventPayloads.conversationClose(context, reason: reason, redirect: request.redirect?.json), at: time))
        guard
            let closed = try await store.closeConversation(
                projectId: projectId, conversationId: active.id, at: time, reason: reason, messages: messages, events: events)
        else { throw DomainError.conversationNotActive }
        metrics?.queued(events)
        if room.viaWebChat { transcripts.changed(projectId: projectId, roomId: room.id) }
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

    /// Which conversations a page of the list holds, as the HTTP layer read the query, with the
    /// parameters it could not read (a cursor is checked here, being sealed, and reported with them).
    package struct ListQuery: Sendable {
        package var filter = ConversationFilter()
        package var page = PageRequest()
        package var problems = ValidationErrors()

        package init() {}
    }

    /// A page of the project's conversations, newest first, and the cursor of the next page (nil on the last page).
    package func list(projectId: String, _ query: ListQuery) async throws -> (conversations: [ConversationView], nextCursor: String?) {
        var errors = query.problems
        let before = cursors.position(of: query.page.cursor, projectId: projectId, problems: &errors)
        try errors.check()
        let size = query.page.size
        let listed = try await store.conversations(projectId: projectId, query.filter, limit: size + 1, before: before)
        let page = Array(listed.prefix(size))
        return (page.map(\.view), listed.count > size ? page.last.map { cursors.seal($0.sequence, projectId: projectId) } : nil)
    }

    /// A channel delivery, held while the bot has no channel URL; none for a web chat room, whose
    /// widget reads what is meant for its visitor from the history.
    func channelEvent(_ context: EventPayloads.Context, bot: Bot, type: String, body: JSONValue) -> [OutboxEvent] {
        guard !context.room.viaWebChat else { return [] }
        return [
            OutboxEvent.make(
                projectId: context.projectId, destination: .channel(botId: bot.id), conversationId: context.conversationId,
                eventType: type, body: body, held: bot.channelWebhookUrl == nil, at: context.time)
        ]
    }
}

/// A conversation as E6–E8 answer it.
package struct ConversationView: Sendable {
    package let conversation: Conversation
    package let user: EndUser?
    package let bot: Bot?
    package let messages: [ConversationMessage]?
}
