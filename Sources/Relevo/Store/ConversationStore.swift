/// Bots, users, rooms, conversations, their history, and the outbox rows their changes cause.
///
/// Every method that changes a conversation takes the events it causes and writes both in one
/// transaction (the transactional outbox): there is no path where one is written without the other.
package protocol ConversationStore: Sendable {
    /// Inserts a bot. Throws ``StoreError/conflict`` when the id is taken in the project.
    func insertBot(_ bot: Bot) async throws
    func bot(projectId: String, id: String) async throws -> Bot?
    /// Every bot of a project, oldest first (a project has a handful).
    func bots(projectId: String) async throws -> [Bot]
    /// The bot saved last, of any project (``RelevoApp/verifyMasterKey()`` opens its channel secret).
    func latestBot() async throws -> Bot?
    /// Sets the channel URL; when one is set, the bot's `held` deliveries become `pending`.
    func updateBotChannel(projectId: String, botId: String, url: String?, at time: Timestamp) async throws -> Bot?

    /// Inserts or updates a user (its `createdAt` is kept on update).
    func upsertUser(_ user: EndUser) async throws -> EndUser
    func user(projectId: String, id: String) async throws -> EndUser?

    /// The room of (bot, user), created with `newId` if it does not exist yet (a web chat room when
    /// `viaWebChat`; an existing room keeps the channel it was created for).
    func ensureRoom(projectId: String, botId: String, userId: String, newId: String, viaWebChat: Bool, at time: Timestamp) async throws -> Room
    func room(projectId: String, botId: String, userId: String) async throws -> Room?

    func conversation(projectId: String, id: String) async throws -> Conversation?
    /// Up to `limit` of the project's conversations that match `filter`, newest first, from the one
    /// before position `before` (from the newest when nil), each with its user and bot.
    func conversations(projectId: String, _ filter: ConversationFilter, limit: Int, before: Int64?) async throws -> [ListedConversation]
    func activeConversation(projectId: String, roomId: String) async throws -> Conversation?
    /// The history of a conversation in order.
    func messages(projectId: String, conversationId: String) async throws -> [ConversationMessage]

    /// Creates an active conversation with its messages and events.
    /// Throws ``StoreError/conflict`` when the room already has an active conversation.
    func startConversation(_ conversation: Conversation, messages: [ConversationMessage], events: [OutboxEvent]) async throws

    /// Closes `conversationId` if it is still active, with its messages and events; nil when it was not active.
    func closeConversation(
        projectId: String, conversationId: String, at time: Timestamp, reason: String,
        messages: [ConversationMessage], events: [OutboxEvent]
    ) async throws -> Conversation?

    /// Records an idempotent request's effects once: the message and events (only while
    /// `activeConversationId` is still active, when given) and `response`, the answer to repeat.
    func recordOnce(_ write: IdempotentWrite) async throws -> IdempotentWriteOutcome

    /// The first answer recorded for an idempotency key, if any.
    func recordedResponse(projectId: String, scope: String, key: String) async throws -> String?

    /// Everything a channel message reads before it writes, in one read (one round trip on PostgreSQL).
    /// A repeat of a message is told by ``recordOnce(_:)``, in the write.
    func channelMessageContext(projectId: String, botId: String, userId: String) async throws -> ChannelMessageContext
}

extension ConversationStore {
    /// The room of (bot, user), created for the channel API if it does not exist yet.
    func ensureRoom(projectId: String, botId: String, userId: String, newId: String, at time: Timestamp) async throws -> Room {
        try await ensureRoom(projectId: projectId, botId: botId, userId: userId, newId: newId, viaWebChat: false, at: time)
    }
}

/// Which conversations a list holds; nil matches any.
package struct ConversationFilter: Sendable, Equatable {
    package var state: Conversation.State?
    package var botId: String?
    package var userId: String?

    package init(state: Conversation.State? = nil, botId: String? = nil, userId: String? = nil) {
        self.state = state
        self.botId = botId
        self.userId = userId
    }
}

/// A conversation of a list, as E8 shows it (without history), and its position in the list.
package struct ListedConversation: Sendable {
    package let view: ConversationView
    /// Increases with every conversation started in the store: the list's order, and its cursors' position.
    package let sequence: Int64
}

/// What ``ConversationStore/channelMessageContext(projectId:botId:userId:)`` reads: the bot, the user,
/// their room and its active conversation; nil where none.
package struct ChannelMessageContext: Sendable, Equatable {
    package var bot: Bot?
    package var user: EndUser?
    package var room: Room?
    package var activeConversation: Conversation?

    package init(bot: Bot?, user: EndUser?, room: Room?, activeConversation: Conversation?) {
        self.bot = bot
        self.user = user
        self.room = room
        self.activeConversation = activeConversation
    }
}

/// What ``ConversationStore/recordOnce(_:)`` writes.
package struct IdempotentWrite: Sendable {
    package let projectId: String
    /// `channel` or `panel`: the namespace of client-chosen message ids.
    package let scope: String
    package let key: String
    package let response: String
    package let activeConversationId: String?
    package let message: ConversationMessage?
    package let events: [OutboxEvent]
    package let at: Timestamp

    package init(
        projectId: String, scope: String, key: String, response: String, activeConversationId: String?,
        message: ConversationMessage?, events: [OutboxEvent], at: Timestamp
    ) {
        self.projectId = projectId
        self.scope = scope
        self.key = key
        self.response = response
        self.activeConversationId = activeConversationId
        self.message = message
        self.events = events
        self.at = at
    }
}

package enum IdempotentWriteOutcome: Sendable, Equatable {
    case recorded
    /// The key was seen before: this is the first answer.
    case duplicate(response: String)
    /// The conversation stopped being active before the write: nothing was written.
    case conversationNotActive
}
