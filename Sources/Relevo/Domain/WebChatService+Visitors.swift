extension WebChatService {
    /// A caller of the widget's API whose token was checked: the bot's web chat and room, and the
    /// visitor as a user of the project.
    package struct Visitor: Sendable {
        package let chat: WebChat
        package let bot: Bot
        package let userId: String
        package let room: Room
        package let origin: String
        /// The authority Relevo was called at when the visitor was let in (its own pages are admitted).
        package let ownAuthority: String?
    }

    /// What admitting a visitor gives the widget to keep: a token (renewed before it expires) and the visitor.
    package struct Admission: Sendable {
        package let token: String
        package let expiresAt: Timestamp
        package let visitor: Visitor
    }

    /// A site's claim that the visitor is one of its logged-in users: the user id, and the HMAC of it
    /// the site's server made with the web chat's identity secret.
    package struct Identity: Sendable {
        package var userId: String
        package var hash: String
        package var name: String?

        package init(userId: String, hash: String, name: String?) {
            self.userId = userId
            self.hash = hash
            self.name = name
        }
    }

    /// Where the visitor is, for the `conversation.start` metadata.
    package struct Page: Sendable {
        package var url: String?
        package var language: String?

        package init(url: String?, language: String?) {
            self.url = url
            self.language = language
        }
    }

    /// The bot's web chat and bot, for the widget's pages; 404 when it has none.
    package func widget(projectId: String, botId: String) async throws -> (WebChat, Bot) {
        let chat = try await webChat(projectId: projectId, botId: botId)
        return (chat, try await bots.bot(projectId: projectId, id: botId))
    }

    /// A token for a visitor of a page of `origin`: the same visitor again when `token` is still
    /// good for this origin, the site's user when `identity` verifies (refused when it does not),
    /// else a new anonymous visitor.
    package func admit(
        projectId: String, botId: String, origin: String, ownAuthority: String?, token: String?, identity: Identity?
    ) async throws -> Admission {
        let (chat, bot) = try await widget(projectId: projectId, botId: botId)
        guard chat.admits(origin: origin, ownAuthority: ownAuthority) else { throw DomainError.originNotAllowed }
        let time = now()
        let userId: String
        if let identity {
            guard Identifier.isValid(identity.userId), verifiesIdentity(chat, userId: identity.userId, hash: identity.hash) else {
                throw DomainError.identityNotVerified
            }
            userId = identity.userId
            if try await store.user(projectId: projectId, id: userId) == nil || identity.name != nil {
                _ = try await bots.upsertUser(projectId: projectId, id: userId, names: identity.name ?? userId, referenceId: userId)
            }
        } else if let token, let previous = tokens.open(token, projectId: projectId, botId: bot.id, now: time), previous.origin == origin,
            try await store.user(projectId: projectId, id: previous.userId) != nil
        {
            userId = previous.userId
        } else {
            let suffix = SecureRandom.hex(byteCount: 10)
            userId = "visitor_" + suffix
            _ = try await bots.upsertUser(projectId: projectId, id: userId, names: "Visitor " + suffix.prefix(4), referenceId: nil)
        }
        let room = try await store.ensureRoom(
            projectId: projectId, botId: bot.id, userId: userId, newId: Identifier.generate(), viaWebChat: true, at: time)
        let expiresAt = time.adding(seconds: VisitorToken.lifetimeSeconds)
        let sealed = tokens.seal(VisitorToken(userId: userId, origin: origin, expiresAt: expiresAt), projectId: projectId, botId: bot.id)
        return Admission(
            token: sealed, expiresAt: expiresAt,
            visitor: Visitor(chat: chat, bot: bot, userId: userId, room: room, origin: origin, ownAuthority: ownAuthority))
    }

    /// The visitor a token names, while the web chat is on and still admits the token's origin.
    package func visitor(projectId: String, botId: String, token: String?, ownAuthority: String?) async throws -> Visitor {
        guard let token, let opened = tokens.open(token, projectId: projectId, botId: botId, now: now()) else {
            throw DomainError.visitorUnauthorized
        }
        let (chat, bot) = try await widget(projectId: projectId, botId: botId)
        guard chat.admits(origin: opened.origin, ownAuthority: ownAuthority) else { throw DomainError.originNotAllowed }
        guard let room = try await store.room(projectId: projectId, botId: botId, userId: opened.userId) else {
            throw DomainError.visitorUnauthorized
        }
        return Visitor(chat: chat, bot: bot, userId: opened.userId, room: room, origin: opened.origin, ownAuthority: ownAuthority)
    }

    /// Whether the visitor's web chat is still on and still admits the origin it came from (a live
    /// transcript ends when either changes).
    package func stillAdmits(_ visitor: Visitor) async throws -> Bool {
        guard let chat = try await store.webChat(projectId: visitor.chat.projectId, botId: visitor.bot.id) else { return false }
        return chat.admits(origin: visitor.origin, ownAuthority: visitor.ownAuthority)
    }

    /// A visitor's text message, under an id the widget made (a resend with the same id is not
    /// recorded twice). With `first_message` it starts a conversation when none is active; with
    /// `button` it needs one (409 `CONVERSATION_NOT_ACTIVE`).
    package func send(_ visitor: Visitor, id: String, text: String, page: Page) async throws {
        let projectId = visitor.chat.projectId
        if try await store.recordedResponse(projectId: projectId, scope: "channel", key: id) != nil { return }
        if try await store.activeConversation(projectId: projectId, roomId: visitor.room.id) == nil {
            guard visitor.chat.start == .firstMessage else { throw DomainError.conversationNotActive }
            try await startIfNone(visitor, page: page)
        }
        let value = MessageValue(id: id, kind: .text, content: .members(["body": .string(text)]))
        _ = try await conversations.receiveFromChannel(
            projectId: projectId, ChannelMessage(botId: visitor.bot.id, userId: visitor.userId, userName: nil, value: value))
    }

    /// "Talk to a person": starts a conversation unless one is active already.
    package func handOff(_ visitor: Visitor, page: Page) async throws {
        if try await store.activeConversation(projectId: visitor.chat.projectId, roomId: visitor.room.id) != nil { return }
        try await startIfNone(visitor, page: page)
    }

    private func startIfNone(_ visitor: Visitor, page: Page) async throws {
        var metadata: [(key: String, value: JSONValue)] = [("source", "webchat"), ("origin", .string(visitor.origin))]
        if let url = page.url { metadata.append(("pageUrl", .string(url))) }
        if let language = page.language { metadata.append(("language", .string(language))) }
        do {
            _ = try await conversations.start(
                projectId: visitor.chat.projectId,
                ConversationStart(
                    botId: visitor.bot.id, userId: visitor.userId, initialMessage: nil, metadata: .object(metadata), assignment: nil),
                viaWebChat: true)
        } catch DomainError.conversationAlreadyActive {
            // Started meanwhile (another tab of the same visitor): that one is the conversation.
        }
    }

    /// The room's conversations from number `from` on (all when nil; the latest few), oldest first,
    /// each with its history.
    package func transcript(
        _ visitor: Visitor, from: Int64?
    ) async throws -> [(conversation: Conversation, sequence: Int64, messages: [ConversationMessage])] {
        let listed = try await store.conversations(
            projectId: visitor.chat.projectId, ConversationFilter(botId: visitor.bot.id, userId: visitor.userId),
            limit: Self.transcriptConversations, before: nil)
        var result: [(conversation: Conversation, sequence: Int64, messages: [ConversationMessage])] = []
        for item in listed.reversed() where item.sequence >= (from ?? 0) {
            let conversation = item.view.conversation
            let messages = try await store.messages(projectId: visitor.chat.projectId, conversationId: conversation.id)
            result.append((conversation, item.sequence, messages))
        }
        return result
    }

    /// How many of a visitor's latest conversations the widget shows.
    static let transcriptConversations = 10

    /// Whether the panel got the conversation's `conversation.start`: true once delivered, false
    /// while it waits or failed.
    package func panelReached(projectId: String, conversationId: String) async throws -> Bool {
        let events = try await store.events(projectId: projectId, status: nil, conversationId: conversationId, limit: 50, before: nil)
        return events.contains { $0.event.eventType == "conversation.start" && $0.event.status == .delivered }
    }
}
