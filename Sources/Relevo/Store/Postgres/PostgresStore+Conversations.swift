import NIOCore
import PostgresNIO

extension PostgresStore {
    package func insertBot(_ bot: Bot) async throws {
        try await transaction(changing: .bots) { connection in
            try await connection.run(
                """
                INSERT INTO bots (project_id, id, name, channel_webhook_url, channel_secret_sealed, created_at, updated_at)
                VALUES (\(bot.projectId), \(bot.id), \(bot.name), \(bot.channelWebhookUrl), \(bot.channelSecret.storedForm),
                    \(bot.createdAt.millisecondsSince1970), \(bot.updatedAt.millisecondsSince1970))
                """)
        }
    }

    package func bots(projectId: String) async throws -> [Bot] {
        try await rows("SELECT \(columns: Self.botColumns) FROM bots WHERE project_id = \(projectId) ORDER BY created_at, id")
            .map { try Self.decodeBot(PostgresColumns($0)) }
    }

    package func latestBot() async throws -> Bot? {
        try await rows("SELECT \(columns: Self.botColumns) FROM bots ORDER BY updated_at DESC LIMIT 1")
            .first.map { try Self.decodeBot(PostgresColumns($0)) }
    }

    package func bot(projectId: String, id: String) async throws -> Bot? {
        try await rows("SELECT \(columns: Self.botColumns) FROM bots WHERE project_id = \(projectId) AND id = \(id)")
            .first.map { try Self.decodeBot(PostgresColumns($0)) }
    }

    private static let botColumns = ["project_id", "id", "name", "channel_webhook_url", "channel_secret_sealed", "created_at", "updated_at"]

    private static func decodeBot(_ row: PostgresColumns) throws -> Bot {
        Bot(
            projectId: try row.value("project_id"), id: try row.value("id"), name: try row.value("name"),
            channelWebhookUrl: try row.value("channel_webhook_url"),
            channelSecret: SealedSecret(storedForm: try row.value("channel_secret_sealed")),
            createdAt: try row.timestamp("created_at"), updatedAt: try row.timestamp("updated_at"))
    }

    /// From memory while it has an active conversation (``PostgresReadCache``); otherwise read with
    /// the context reads made meanwhile (``contextReads``).
    package func channelMessageContext(projectId: String, botId: String, userId: String) async throws -> ChannelMessageContext {
        try await readCache.context(projectId: projectId, botId: botId, userId: userId) {
            try await batched(ContextKey(projectId: projectId, botId: botId, userId: userId), in: contextReads) { [self] keys in
                let rows = try await rows(PreparedQuery<ContextReads>(keys.map(\.projectId), keys.map(\.botId), keys.map(\.userId)))
                return try Self.byNumber(rows, count: keys.count).map { row in
                    guard let row else { throw StoreError.notFound }
                    return try Self.decodeContext(row)
                }
            }
        }
    }

    /// What a channel message's context read is for.
    struct ContextKey: Sendable {
        let projectId: String
        let botId: String
        let userId: String
    }

    private static func decodeContext(_ row: PostgresRandomAccessRow) throws -> ChannelMessageContext {
        let bot = PostgresColumns(row, prefix: "bot."), user = PostgresColumns(row, prefix: "user.")
        let room = PostgresColumns(row, prefix: "room."), conversation = PostgresColumns(row, prefix: "conversation.")
        return ChannelMessageContext(
            bot: try bot.isNull("id") ? nil : Self.decodeBot(bot),
            user: try user.isNull("id") ? nil : Self.decodeUser(user),
            room: try room.isNull("id") ? nil : Self.decodeRoom(room),
            activeConversation: try conversation.isNull("id") ? nil : Self.decodeConversation(conversation))
    }

    /// The channel message's one read, for many at once: one row each, numbered `n` from 1 in array
    /// order; each part a LEFT JOIN, NULL where it does not exist, its columns aliased
    /// "<part>.<column>". $1 the projects, $2 the bots, $3 the users.
    enum ContextReads: PreparedSQL {
        static let sql = """
            SELECT q.n, \(botColumns.selectList(of: "b", prefixed: "bot.")), \(userColumns.selectList(of: "u", prefixed: "user.")),
                \(roomColumns.selectList(of: "r", prefixed: "room.")), \(conversationColumns.selectList(of: "c", prefixed: "conversation."))
            FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS q(project, bot, end_user, n)
            LEFT JOIN bots b ON b.project_id = q.project AND b.id = q.bot
            LEFT JOIN end_users u ON u.project_id = q.project AND u.id = q.end_user
            LEFT JOIN rooms r ON r.project_id = q.project AND r.bot_id = q.bot AND r.user_id = q.end_user
            LEFT JOIN conversations c ON c.project_id = q.project AND c.room_id = r.id AND c.state = 'active'
            """
    }

    package func updateBotChannel(projectId: String, botId: String, url: String?, at time: Timestamp) async throws -> Bot? {
        // nil: no such bot; otherwise whether held events were queued again.
        let requeued = try await transaction(changing: .bots) { connection -> Bool? in
            let millis = time.millisecondsSince1970
            guard
                try await connection.run(
                    """
                    UPDATE bots SET channel_webhook_url = \(url), updated_at = \(millis)
                    WHERE project_id = \(projectId) AND id = \(botId) RETURNING 1
                    """) > 0
            else { return nil }
            // Held events are unsettled already: their heads stay, and become due.
            guard url != nil else { return false }
            let keys = try await connection.rows(
                """
                SELECT DISTINCT ordering_key FROM events
                WHERE project_id = \(projectId) AND destination = 'channel' AND bot_id = \(botId) AND status = 'held'
                """
            ).map { try $0.value("ordering_key", as: String.self) }
            try await Self.lockOrderingKeys(keys, connection)
            let requeued = try await connection.run(
                """
                UPDATE events SET status = 'pending', next_attempt_at = \(millis)
                WHERE project_id = \(projectId) AND destination = 'channel' AND bot_id = \(botId) AND status = 'held' RETURNING 1
                """)
            try await Self.refreshHeads(keys, connection)
            return requeued > 0
        }
        guard let requeued else { return nil }
        if requeued { announceDue() }
        return try await bot(projectId: projectId, id: botId)
    }

    package func upsertUser(_ user: EndUser) async throws -> EndUser {
        try await transaction(changing: .users) { connection in
            try await connection.run(
                """
                INSERT INTO end_users (project_id, id, names, reference_id, created_at, updated_at)
                VALUES (\(user.projectId), \(user.id), \(user.names), \(user.referenceId),
                    \(user.createdAt.millisecondsSince1970), \(user.updatedAt.millisecondsSince1970))
                ON CONFLICT (project_id, id) DO UPDATE SET names = excluded.names, reference_id = excluded.reference_id,
                    updated_at = excluded.updated_at
                """)
        }
        return try await self.user(projectId: user.projectId, id: user.id) ?? user
    }

    package func user(projectId: String, id: String) async throws -> EndUser? {
        try await rows("SELECT \(columns: Self.userColumns) FROM end_users WHERE project_id = \(projectId) AND id = \(id)")
            .first.map { try Self.decodeUser(PostgresColumns($0)) }
    }

    private static let userColumns = ["project_id", "id", "names", "reference_id", "created_at", "updated_at"]

    private static func decodeUser(_ row: PostgresColumns) throws -> EndUser {
        EndUser(
            projectId: try row.value("project_id"), id: try row.value("id"), names: try row.value("names"),
            referenceId: try row.value("reference_id"), createdAt: try row.timestamp("created_at"),
            updatedAt: try row.timestamp("updated_at"))
    }

    package func ensureRoom(
        projectId: String, botId: String, userId: String, newId: String, viaWebChat: Bool, at time: Timestamp
    ) async throws -> Room {
        if let room = try await room(projectId: projectId, botId: botId, userId: userId) { return room }
        let channel = viaWebChat ? Room.webChatChannel : nil
        try await transaction { connection in
            try await connection.run(
                """
                INSERT INTO rooms (project_id, id, bot_id, user_id, channel, created_at)
                VALUES (\(projectId), \(newId), \(botId), \(userId), \(channel), \(time.millisecondsSince1970)) ON CONFLICT DO NOTHING
                """)
        }
        guard let room = try await room(projectId: projectId, botId: botId, userId: userId) else { throw StoreError.notFound }
        return room
    }

    package func room(projectId: String, botId: String, userId: String) async throws -> Room? {
        try await rows(
            """
            SELECT \(columns: Self.roomColumns) FROM rooms
            WHERE project_id = \(projectId) AND bot_id = \(botId) AND user_id = \(userId)
            """
        ).first.map { try Self.decodeRoom(PostgresColumns($0)) }
    }

    private static let roomColumns = ["project_id", "id", "bot_id", "user_id", "channel", "created_at"]

    private static func decodeRoom(_ row: PostgresColumns) throws -> Room {
        Room(
            projectId: try row.value("project_id"), id: try row.value("id"), botId: try row.value("bot_id"),
            userId: try row.value("user_id"), viaWebChat: try row.value("channel", as: String?.self) == Room.webChatChannel,
            createdAt: try row.timestamp("created_at"))
    }

    package func conversation(projectId: String, id: String) async throws -> Conversation? {
        try await rows("SELECT \(columns: Self.conversationColumns) FROM conversations WHERE project_id = \(projectId) AND id = \(id)")
            .first.map { try Self.decodeConversation(PostgresColumns($0)) }
    }

    package func conversations(projectId: String, _ filter: ConversationFilter, limit: Int, before: Int64?) async throws
        -> [ListedConversation]
    {
        // Statements are planned with their values, so a filter that is NULL drops out of the plan.
        let (state, botId, userId) = (filter.state?.rawValue, filter.botId, filter.userId)
        return try await rows(
            """
            SELECT c.seq, \(columns: Self.conversationColumns, of: "c", prefixed: "conversation."),
                \(columns: Self.userColumns, of: "u", prefixed: "user."), \(columns: Self.botColumns, of: "b", prefixed: "bot.")
            FROM conversations c
            LEFT JOIN end_users u ON u.project_id = c.project_id AND u.id = c.user_id
            LEFT JOIN bots b ON b.project_id = c.project_id AND b.id = c.bot_id
            WHERE c.project_id = \(projectId) AND c.seq < \(before ?? Int64.max)
              AND (\(state)::text IS NULL OR c.state = \(state)) AND (\(botId)::text IS NULL OR c.bot_id = \(botId))
              AND (\(userId)::text IS NULL OR c.user_id = \(userId))
            ORDER BY c.seq DESC LIMIT \(limit)
            """
        ).map { row in
            let user = PostgresColumns(row, prefix: "user."), bot = PostgresColumns(row, prefix: "bot.")
            let view = ConversationView(
                conversation: try Self.decodeConversation(PostgresColumns(row, prefix: "conversation.")),
                user: try user.isNull("id") ? nil : Self.decodeUser(user), bot: try bot.isNull("id") ? nil : Self.decodeBot(bot),
                messages: nil)
            return ListedConversation(view: view, sequence: try row.value("seq"))
        }
    }

    package func activeConversation(projectId: String, roomId: String) async throws -> Conversation? {
        try await rows(
            """
            SELECT \(columns: Self.conversationColumns) FROM conversations
            WHERE project_id = \(projectId) AND room_id = \(roomId) AND state = 'active'
            """
        ).first.map { try Self.decodeConversation(PostgresColumns($0)) }
    }

    package func messages(projectId: String, conversationId: String) async throws -> [ConversationMessage] {
        try await rows(
            """
            SELECT \(columns: Self.messageColumns) FROM messages
            WHERE project_id = \(projectId) AND conversation_id = \(conversationId) ORDER BY seq
            """
        ).map(Self.decodeMessage)
    }

    private static let messageColumns = ["conversation_id", "id", "direction", "type", "content", "created_at"]

    private static func decodeMessage(_ row: PostgresRandomAccessRow) throws -> ConversationMessage {
        ConversationMessage(
            conversationId: try row.value("conversation_id"), id: try row.value("id"), direction: try row.enumeration("direction"),
            type: try row.value("type"), content: try row.json("content"), createdAt: try row.timestamp("created_at"))
    }

    /// Written with the starts made meanwhile (``starts``), in one transaction, and answered after its commit.
    package func startConversation(_ conversation: Conversation, messages: [ConversationMessage], events: [OutboxEvent]) async throws {
        let start = ConversationWrite(projectId: conversation.projectId, conversationId: conversation.id, messages: messages, events: events)
        try await batched(StartWrite(conversation: conversation, write: start), in: starts) { [self] batch in
            try await transaction { connection in
                try await Self.lockOrderingKeys(batch.flatMap { $0.write.events.map(\.orderingKey) }, connection)
                // In one order (by room), so that two batches starting one room cannot wait on each other.
                let started = batch.map(\.conversation).sorted { ($0.projectId, $0.roomId) < ($1.projectId, $1.roomId) }
                try await connection.run(
                    """
                    INSERT INTO conversations (project_id, id, room_id, bot_id, user_id, state, start_at, assignment, metadata)
                    SELECT project, id, room, bot, end_user, state, start_at, NULLIF(assignment, ''), NULLIF(metadata, '')
                    FROM unnest(\(started.map(\.projectId)), \(started.map(\.id)), \(started.map(\.roomId)), \(started.map(\.botId)),
                        \(started.map(\.userId)), \(started.map(\.state.rawValue)), \(started.map(\.startAt.millisecondsSince1970)),
                        \(started.map { $0.assignment.map(CanonicalJSONWriter.string) ?? "" }),
                        \(started.map { $0.metadata.map(CanonicalJSONWriter.string) ?? "" }))
                        AS q(project, id, room, bot, end_user, state, start_at, assignment, metadata)
                    """)
                try await Self.insert(batch.map(\.write), connection)
                return batch.map { _ in () }
            }
        }
        if !events.isEmpty { announceDue() }
    }

    /// Written with the closes made meanwhile (``conversationCloses``), in one transaction, and
    /// answered after its commit; nil when the conversation is not active (any more).
    package func closeConversation(
        projectId: String, conversationId: String, at time: Timestamp, reason: String,
        messages: [ConversationMessage], events: [OutboxEvent]
    ) async throws -> Conversation? {
        let close = ConversationWrite(projectId: projectId, conversationId: conversationId, messages: messages, events: events)
        let closed = try await batched(CloseWrite(at: time, reason: reason, write: close), in: conversationCloses) { [self] batch in
            try await transaction { connection -> [Bool] in
                try await Self.lockOrderingKeys(batch.flatMap { $0.write.events.map(\.orderingKey) }, connection)
                // Locked in one order (by id), as a batch of channel messages locks the conversations it writes to.
                let rows = try await connection.rows(
                    """
                    WITH q AS (
                        SELECT * FROM unnest(\(batch.map(\.write.projectId)), \(batch.map(\.write.conversationId)),
                            \(batch.map(\.at.millisecondsSince1970)), \(batch.map(\.reason))) WITH ORDINALITY AS q(project, id, end_at, reason, n)
                    ), locked AS (
                        SELECT c.project_id, c.id FROM conversations c JOIN q ON c.project_id = q.project AND c.id = q.id
                        WHERE c.state = 'active' ORDER BY c.project_id, c.id FOR UPDATE OF c
                    )
                    UPDATE conversations c SET state = 'closed', end_at = q.end_at, ended_reason = q.reason
                    FROM locked JOIN q ON q.project = locked.project_id AND q.id = locked.id
                    WHERE c.project_id = locked.project_id AND c.id = locked.id
                    RETURNING q.n
                    """)
                let closed = try Self.byNumber(rows, count: batch.count).map { $0 != nil }
                try await Self.insert(zip(batch, closed).filter(\.1).map(\.0.write), connection)
                return closed
            }
        }
        guard closed else { return nil }
        readCache.forgetConversation(conversationId)
        if !events.isEmpty { announceDue() }
        return try await conversation(projectId: projectId, id: conversationId)
    }

    /// What a start or a close writes besides the conversation itself.
    struct ConversationWrite: Sendable {
        let projectId: String
        let conversationId: String
        let messages: [ConversationMessage]
        let events: [OutboxEvent]
    }

    /// A start, for ``starts``.
    struct StartWrite: Sendable {
        let conversation: Conversation
        let write: ConversationWrite
    }

    /// A close, for ``conversationCloses``.
    struct CloseWrite: Sendable {
        let at: Timestamp
        let reason: String
        let write: ConversationWrite
    }

    /// Written with the client-keyed writes made meanwhile (``records``), each answered after the
    /// commit of its batch (`relevo_record_committed`, migration 012, which commits before it answers).
    package func recordOnce(_ write: IdempotentWrite) async throws -> IdempotentWriteOutcome {
        let outcome = try await batched(write, in: records) { [self] batch in try await writeRecords(batch) }
        if outcome == .recorded && !write.events.isEmpty { announceDue() }
        // A context kept in memory named it active: the next message reads its room afresh.
        if outcome == .conversationNotActive, let conversationId = write.activeConversationId {
            readCache.forgetConversation(conversationId)
        }
        return outcome
    }

    /// Arrays cannot carry NULL from here: '' stands for no active conversation and no message.
    private func writeRecords(_ batch: [IdempotentWrite]) async throws -> [IdempotentWriteOutcome] {
        let messages = batch.map(\.message)
        let events = batch.flatMap(\.events)
        let owners = batch.enumerated().flatMap { index, write in write.events.map { _ in Int64(index + 1) } }
        let rows = try await write(
            """
            CALL relevo_record_committed(\(batch.map(\.projectId)), \(batch.map(\.scope)),
                \(batch.map(\.key)), \(batch.map(\.response)), \(batch.map(\.at.millisecondsSince1970)),
                \(batch.map { $0.activeConversationId ?? "" }),
                \(messages.map { $0?.conversationId ?? "" }), \(messages.map { $0?.id ?? "" }),
                \(messages.map { $0?.direction.rawValue ?? "" }), \(messages.map { $0?.type ?? "" }),
                \(messages.map { $0.map { CanonicalJSONWriter.string($0.content) } ?? "" }),
                \(messages.map { $0?.createdAt.millisecondsSince1970 ?? 0 }),
                \(owners), \(events.map(\.id)), \(eventArrays: events), NULL, NULL, NULL)
            """)
        guard let row = rows.first else { throw UnexpectedOutcome(outcome: "none") }
        let numbers = try row.value("write_numbers", as: [Int64].self)
        let outcomes = try row.value("outcomes", as: [String].self)
        let previous = try row.value("previous", as: [String].self)
        guard numbers == Array(1...Int64(batch.count)), outcomes.count == batch.count, previous.count == batch.count else {
            throw UnexpectedOutcome(outcome: "not one answer per write")
        }
        return try zip(outcomes, previous).map { outcome, previous in
            // '' is no earlier answer: a recorded answer is a JSON object, never empty.
            try Self.outcome(outcome, previous: previous.isEmpty ? nil : previous)
        }
    }

    private static func outcome(_ outcome: String, previous: String?) throws -> IdempotentWriteOutcome {
        switch outcome {
        case "recorded": return .recorded
        case "duplicate":
            guard let previous else { throw UnexpectedOutcome(outcome: "duplicate without its answer") }
            return .duplicate(response: previous)
        case "not_active": return .conversationNotActive
        case let other: throw UnexpectedOutcome(outcome: other)
        }
    }

    /// `relevo_record_committed` answered something this build does not know (a newer schema?).
    struct UnexpectedOutcome: Error {
        let outcome: String
    }

    package func recordedResponse(projectId: String, scope: String, key: String) async throws -> String? {
        try await rows("SELECT response FROM idempotency WHERE project_id = \(projectId) AND scope = \(scope) AND key = \(key)")
            .first?.value("response", as: String.self)
    }

    /// Inserts the messages and events of `writes`, in their order. Each event becomes the head of its
    /// key unless the key already has one. The caller holds the keys' locks
    /// (``lockOrderingKeys(_:_:)``) and announces the events after the commit.
    static func insert(_ writes: [ConversationWrite], _ connection: PostgresConnection) async throws {
        let messages = writes.flatMap { write in write.messages.map { (write.projectId, $0) } }
        if !messages.isEmpty {
            try await connection.run(
                """
                INSERT INTO messages (project_id, conversation_id, id, direction, type, content, created_at)
                SELECT project, conversation, id, direction, type, content, created_at FROM unnest(\(messages.map(\.0)), \(messages.map(\.1.conversationId)), \(messages.map(\.1.id)),
                    \(messages.map(\.1.direction.rawValue)), \(messages.map(\.1.type)),
                    \(messages.map { CanonicalJSONWriter.string($0.1.content) }), \(messages.map(\.1.createdAt.millisecondsSince1970)))
                    WITH ORDINALITY AS q(project, conversation, id, direction, type, content, created_at, n)
                ORDER BY n
                """)
        }
        var projects: [String] = []
        var events: [String: [OutboxEvent]] = [:]
        for write in writes where !write.events.isEmpty {
            if events[write.projectId] == nil { projects.append(write.projectId) }
            events[write.projectId, default: []] += write.events
        }
        for projectId in projects {
            let events = events[projectId] ?? []
            try await connection.run("SELECT relevo_insert_events(\(events.map(\.id)), \(projectId), \(eventArrays: events))")
        }
    }

    /// Points the heads of `keys` at their oldest unsettled event, or removes them when none is left
    /// (`relevo_refresh_heads`, migration 007). The caller holds the keys' locks.
    static func refreshHeads(_ keys: [String], _ connection: PostgresConnection) async throws {
        guard !keys.isEmpty else { return }
        try await connection.run("SELECT relevo_refresh_heads(\(keys)::text[])")
    }

    private static let conversationColumns = [
        "project_id", "id", "room_id", "bot_id", "user_id", "state", "start_at", "end_at", "ended_reason", "assignment", "metadata",
    ]

    private static func decodeConversation(_ row: PostgresColumns) throws -> Conversation {
        Conversation(
            projectId: try row.value("project_id"), id: try row.value("id"), roomId: try row.value("room_id"),
            botId: try row.value("bot_id"), userId: try row.value("user_id"), state: try row.enumeration("state"),
            startAt: try row.timestamp("start_at"), endAt: try row.optionalTimestamp("end_at"),
            endedReason: try row.value("ended_reason"), assignment: try row.optionalJSON("assignment"),
            metadata: try row.optionalJSON("metadata"))
    }
}

extension PostgresQuery.StringInterpolation {
    /// The columns of `events` after their ids and project, as the arrays `relevo_insert_events` and
    /// `relevo_record_committed` take (migrations 007 and 012): '' for no bot and no conversation.
    mutating func appendInterpolation(eventArrays events: [OutboxEvent]) {
        appendInterpolation(events.map(\.destination.kind))
        appendLiteral(", ")
        appendInterpolation(events.map { $0.destination.botId ?? "" })
        appendLiteral(", ")
        appendInterpolation(events.map(\.orderingKey))
        appendLiteral(", ")
        appendInterpolation(events.map { $0.conversationId ?? "" })
        appendLiteral(", ")
        appendInterpolation(events.map(\.eventType))
        appendLiteral(", ")
        appendInterpolation(events.map { ByteBuffer(bytes: $0.body) })
        appendLiteral(", ")
        appendInterpolation(events.map(\.status.rawValue))
        appendLiteral(", ")
        appendInterpolation(events.map(\.attemptCount))
        appendLiteral(", ")
        appendInterpolation(events.map(\.nextAttemptAt.millisecondsSince1970))
        appendLiteral(", ")
        appendInterpolation(events.map(\.createdAt.millisecondsSince1970))
    }
}
