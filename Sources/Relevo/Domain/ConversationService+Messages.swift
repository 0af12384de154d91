extension ConversationService {
    /// What a message request answers (also what a repeat of it answers): the `data` member in
    /// canonical JSON, the very text recorded for repeats, so it is written once and never parsed back.
    package struct MessageReceipt: Sendable {
        package let data: String
    }

    /// §7.3 in: an end-user message. Routed to the panel while a conversation is active, else to the bot.
    package func receiveFromChannel(projectId: String, _ message: ChannelMessage) async throws -> MessageReceipt {
        let (botId, userId, userName, value) = (message.botId, message.userId, message.userName, message.value)

        // One read for the common case (a known user writing in an existing room), answered in the
        // write, which also tells a repeat of the message. Otherwise (the bot gone, a user or room to
        // write) a repeat gets its first answer before anything is written, so it never changes anything.
        let known = try await store.channelMessageContext(projectId: projectId, botId: botId, userId: userId)
        let existing = known.user
        // Names compare by code points: "José" precomposed and with a combining accent are two
        // spellings the client chose between, and the one sent last is the one kept.
        let userIsKnown = existing.map { user in userName.map { $0.hasSameCodePoints(as: user.names) } ?? true } ?? false
        if known.bot == nil || !userIsKnown || known.room == nil,
            let previous = try await store.recordedResponse(projectId: projectId, scope: "channel", key: value.id)
        {
            return MessageReceipt(data: previous)
        }
        guard let bot = known.bot else { throw DomainError.notFound(.bot, id: botId) }
        let user =
            if let existing, userIsKnown { existing } else {
                try await bots.upsertUser(
                    projectId: projectId, id: userId, names: userName ?? existing?.names ?? userId,
                    referenceId: existing?.referenceId)
            }
        let time = now()
        let room =
            if let room = known.room { room } else {
                try await store.ensureRoom(projectId: projectId, botId: bot.id, userId: user.id, newId: Identifier.generate(), at: time)
            }
        for attempt in 0..<2 {  // once more if the conversation closes between the read and the write
            let active =
                attempt == 0 && known.room != nil
                ? known.activeConversation : try await store.activeConversation(projectId: projectId, roomId: room.id)
            let write: IdempotentWrite
            if let active {
                let context = EventPayloads.Context(projectId: projectId, room: room, conversationId: active.id, user: user, bot: bot, time: time)
                write = IdempotentWrite(
                    projectId: projectId, scope: "channel", key: value.id,
                    response: CanonicalJSONWriter.string(.members(["routedTo": "panel", "conversationId": .string(active.id)])),
                    activeConversationId: active.id,
                    message: ConversationMessage(
                        conversationId: active.id, id: value.id, direction: .user, type: value.kind.rawValue,
                        content: value.content, createdAt: time),
                    events: [
                        OutboxEvent.make(
                            projectId: projectId, destination: .panel, conversationId: active.id, eventType: "message",
                            bytes: EventPayloads.userMessage(context, value: value), at: time)
                    ],
                    at: time)
            } else {
                write = IdempotentWrite(
                    projectId: projectId, scope: "channel", key: value.id,
                    response: CanonicalJSONWriter.string(.members(["routedTo": "bot"])),
                    activeConversationId: nil, message: nil, events: [], at: time)
            }
            switch try await store.recordOnce(write) {
            case .recorded:
                metrics?.queued(write.events)
                if room.viaWebChat, write.message != nil { transcripts.changed(projectId: projectId, roomId: room.id) }
                return MessageReceipt(data: write.response)
            case .duplicate(let first): return MessageReceipt(data: first)
            case .conversationNotActive: continue
            }
        }
        throw DomainError.conversationNotActive
    }

    /// §6: whether `body`, exactly as received, carries the signature of the project's signing
    /// secret (or of the one it replaced, during its grace). An unknown project, one without an
    /// integration and a wrong signature are refused alike.
    package func verifyPanelSignature(projectId: String, body: [UInt8], signature: String?) async throws {
        guard let secrets = try await integrations.signingSecrets(projectId: projectId), !secrets.isEmpty,
            WebhookSignature.verifyJelou(header: signature, body: body, secrets: secrets)
        else { throw DomainError.invalidSignature }
    }

    /// §6: an agent message from the panel, whose signature ``verifyPanelSignature(projectId:body:signature:)`` checked.
    package func receiveFromPanel(_ reply: AgentReply) async throws -> MessageReceipt {
        let (projectId, roomId, botId, userId, value) = (reply.projectId, reply.roomId, reply.botId, reply.userId, reply.value)

        if let previous = try await store.recordedResponse(projectId: projectId, scope: "panel", key: value.id) {
            return MessageReceipt(data: previous)
        }
        guard let room = try await store.room(projectId: projectId, botId: botId, userId: userId), room.id == roomId,
            let bot = try await store.bot(projectId: projectId, id: botId),
            let user = try await store.user(projectId: projectId, id: userId)
        else { throw DomainError.notFound(.room, id: roomId) }
        guard let active = try await store.activeConversation(projectId: projectId, roomId: room.id) else {
            throw DomainError.conversationNotActive
        }
        let time = now()
        let context = EventPayloads.Context(projectId: projectId, room: room, conversationId: active.id, user: user, bot: bot, time: time)
        let response = CanonicalJSONWriter.string(.members(["messageId": .string(value.id), "conversationId": .string(active.id)]))
        let write = IdempotentWrite(
            projectId: projectId, scope: "panel", key: value.id, response: response, activeConversationId: active.id,
            message: ConversationMessage(
                conversationId: active.id, id: value.id, direction: .agent, type: value.kind.rawValue,
                content: value.content, createdAt: time),
            events: channelEvent(context, bot: bot, type: "outgoing_message", body: EventPayloads.outgoingMessage(context, value: value)),
            at: time)
        switch try await store.recordOnce(write) {
        case .recorded:
            metrics?.queued(write.events)
            if room.viaWebChat { transcripts.changed(projectId: projectId, roomId: room.id) }
            return MessageReceipt(data: response)
        case .duplicate(let previous): return MessageReceipt(data: previous)
        case .conversationNotActive: throw DomainError.conversationNotActive
        }
    }
}
