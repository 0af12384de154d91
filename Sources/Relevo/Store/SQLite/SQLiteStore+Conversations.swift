import Foundation
import GRDB

extension SQLiteStore {
    package func insertBot(_ bot: Bot) async throws {
        try await write { db in
            try db.run(
                sql: """
                    INSERT INTO bots (project_id, id, name, channel_webhook_url, channel_secret_sealed, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    bot.projectId, bot.id, bot.name, bot.channelWebhookUrl, bot.channelSecret.storedForm,
                    bot.createdAt.millisecondsSince1970, bot.updatedAt.millisecondsSince1970,
                ])
        }
    }

    package func bots(projectId: String) async throws -> [Bot] {
        try reader.fetchAll("SELECT \(Self.botColumns) FROM bots WHERE project_id = ? ORDER BY created_at, id", [.text(projectId)])
            .map(Self.decodeBot)
    }

    package func latestBot() async throws -> Bot? {
        try reader.fetchOne("SELECT \(Self.botColumns) FROM bots ORDER BY updated_at DESC LIMIT 1", []).map(Self.decodeBot)
    }

    package func bot(projectId: String, id: String) async throws -> Bot? {
        try reader.fetchOne("SELECT \(Self.botColumns) FROM bots WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)])
            .map(Self.decodeBot)
    }

    package func updateBotChannel(projectId: String, botId: String, url: String?, at time: Timestamp) async throws -> Bot? {
        let (changed, _) = try await write(
            { db -> (Bool, [SQLiteDeliverySchedule.KeyHead]) in
                try db.run(
                    sql: "UPDATE bots SET channel_webhook_url = ?, updated_at = ? WHERE project_id = ? AND id = ?",
                    arguments: [url, time.millisecondsSince1970, projectId, botId])
                guard db.changesCount > 0 else { return (false, []) }
                guard url != nil else { return (true, []) }
                let keys = try db.strings(
                    sql:
                        "UPDATE events SET status = 'pending', next_attempt_at = ? WHERE project_id = ? AND destination = 'channel' AND bot_id = ? AND status = 'held' RETURNING ordering_key",
                    arguments: [time.millisecondsSince1970, projectId, botId])
                return (true, try Self.currentHeads(keys, db))
            }, afterCommit: { self.schedule.update($0.1) })
        if changed { wakeDispatcher() }
        return changed ? try await bot(projectId: projectId, id: botId) : nil
    }

    package func upsertUser(_ user: EndUser) async throws -> EndUser {
        try await write { db in
            try db.run(
                sql: """
                    INSERT INTO end_users (project_id, id, names, reference_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (project_id, id) DO UPDATE SET names = excluded.names, reference_id = excluded.reference_id,
                        updated_at = excluded.updated_at
                    """,
                arguments: [
                    user.projectId, user.id, user.names, user.referenceId,
                    user.createdAt.millisecondsSince1970, user.updatedAt.millisecondsSince1970,
                ])
        }
        return try await self.user(projectId: user.projectId, id: user.id) ?? user
    }

    package func user(projectId: String, id: String) async throws -> EndUser? {
        try reader.fetchOne("SELECT \(Self.userColumns) FROM end_users WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)])
            .map(Self.decodeUser)
    }

    package func channelMessageContext(projectId: String, botId: String, userId: String) async throws -> ChannelMessageContext {
        try cache.channelMessageContext(.init(projectId: projectId, botId: botId, userId: userId)) {
            try readChannelMessageContext(projectId: projectId, botId: botId, userId: userId)
        }
    }

    private func readChannelMessageContext(projectId: String, botId: String, userId: String) throws -> ChannelMessageContext {
        // Exactly one row: each part is a LEFT JOIN, NULL where it does not exist.
        let row = try reader.fetchOne(
            """
            SELECT \(Self.contextColumns)
            FROM (SELECT 1) AS one
            LEFT JOIN bots b ON b.project_id = ?1 AND b.id = ?2
            LEFT JOIN end_users u ON u.project_id = ?1 AND u.id = ?3
            LEFT JOIN rooms r ON r.project_id = ?1 AND r.bot_id = ?2 AND r.user_id = ?3
            LEFT JOIN conversations c ON c.project_id = ?1 AND c.room_id = r.id AND c.state = 'active'
            """,
            [.text(projectId), .text(botId), .text(userId)])
        guard let row else { throw StoreError.notFound }
        let bot = row.scoped("bot."), user = row.scoped("user."), room = row.scoped("room."), conversation = row.scoped("conversation.")
        return ChannelMessageContext(
            bot: try bot.isNull("id") ? nil : Self.decodeBot(bot),
            user: try user.isNull("id") ? nil : Self.decodeUser(user),
            room: try room.isNull("id") ? nil : Self.decodeRoom(room),
            activeConversation: try conversation.isNull("id") ? nil : Self.decodeConversation(conversation))
    }

    /// Bot, user, room and active conversation in one row, each part's columns aliased `"<part>.<column>"`.
    private static let contextColumns = [
        SQLiteRow.list(botNames, of: "b", prefixed: "bot."), SQLiteRow.list(userNames, of: "u", prefixed: "user."),
        SQLiteRow.list(roomNames, of: "r", prefixed: "room."), SQLiteRow.list(conversationNames, of: "c", prefixed: "conversation."),
    ].joined(separator: ", ")

    private static let userNames = ["project_id", "id", "names", "reference_id", "created_at", "updated_at"]
    private static let userColumns = SQLiteRow.list(userNames)

    private static func decodeUser(_ row: SQLiteRow) throws -> EndUser {
        EndUser(
            projectId: try row.text("project_id"), id: try row.text("id"), names: try row.text("names"),
            referenceId: try row.optionalText("reference_id"), createdAt: try row.timestamp("created_at"),
            updatedAt: try row.timestamp("updated_at"))
    }

    private static let roomNames = ["project_id", "id", "bot_id", "user_id", "channel", "created_at"]
    private static let roomColumns = SQLiteRow.list(roomNames)

    private static func decodeRoom(_ row: SQLiteRow) throws -> Room {
        Room(
            projectId: try row.text("project_id"), id: try row.text("id"), botId: try row.text("bot_id"), userId: try row.text("user_id"),
            viaWebChat: try row.optionalText("channel") == Room.webChatChannel, createdAt: try row.timestamp("created_at"))
    }

    package func ensureRoom(
        projectId: String, botId: String, userId: String, newId: String, viaWebChat: Bool, at time: Timestamp
    ) async throws -> Room {
        if let room = try await room(projectId: projectId, botId: botId, userId: userId) { return room }
        try await write { db in
            try db.run(
                sql: "INSERT OR IGNORE INTO rooms (project_id, id, bot_id, user_id, channel, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [projectId, newId, botId, userId, viaWebChat ? Room.webChatChannel : nil, time.millisecondsSince1970])
        }
        guard let room = try await room(projectId: projectId, botId: botId, userId: userId) else { throw StoreError.notFound }
        return room
    }

    package func room(projectId: String, botId: String, userId: String) async throws -> Room? {
        try reader.fetchOne(
            "SELECT \(Self.roomColumns) FROM rooms WHERE project_id = ? AND bot_id = ? AND user_id = ?",
            [.text(projectId), .text(botId), .text(userId)]
        ).map(Self.decodeRoom)
    }

    package func conversation(projectId: String, id: String) async throws -> Conversation? {
        try reader.fetchOne("SELECT \(Self.conversationColumns) FROM conversations WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)])
            .map(Self.decodeConversation)
    }

    package func conversations(projectId: String, _ filter: ConversationFilter, limit: Int, before: Int64?) async throws
        -> [ListedConversation]
    {
        // Only the filters given are in the statement, so that SQLite picks the index that fits them.
        var conditions = ["c.project_id = ?", "c.seq < ?"]
        var arguments: [SQLiteParameter] = [.text(projectId), .integer(before ?? Int64.max)]
        for (column, value) in [("state", filter.state?.rawValue), ("bot_id", filter.botId), ("user_id", filter.userId)] {
            guard let value else { continue }
            conditions.append("c.\(column) = ?")
            arguments.append(.text(value))
        }
        arguments.append(.integer(Int64(limit)))
        return try reader.fetchAll(
            """
            SELECT c.seq AS seq, \(Self.listedColumns)
            FROM conversations c
            LEFT JOIN end_users u ON u.project_id = c.project_id AND u.id = c.user_id
            LEFT JOIN bots b ON b.project_id = c.project_id AND b.id = c.bot_id
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY c.seq DESC LIMIT ?
            """, arguments
        ).map { row in
            let user = row.scoped("user."), bot = row.scoped("bot.")
            let view = ConversationView(
                conversation: try Self.decodeConversation(row.scoped("conversation.")),
                user: try user.isNull("id") ? nil : Self.decodeUser(user), bot: try bot.isNull("id") ? nil : Self.decodeBot(bot),
                messages: nil)
            return ListedConversation(view: view, sequence: try row.integer("seq"))
        }
    }

    /// A conversation with its user and bot, each part's columns aliased `"<part>.<column>"`.
    private static let listedColumns = [
        SQLiteRow.list(conversationNames, of: "c", prefixed: "conversation."), SQLiteRow.list(userNames, of: "u", prefixed: "user."),
        SQLiteRow.list(botNames, of: "b", prefixed: "bot."),
    ].joined(separator: ", ")

    package func activeConversation(projectId: String, roomId: String) async throws -> Conversation? {
        try reader.fetchOne(
            "SELECT \(Self.conversationColumns) FROM conversations WHERE project_id = ? AND room_id = ? AND state = 'active'",
            [.text(projectId), .text(roomId)]
        ).map(Self.decodeConversation)
    }

    package func messages(projectId: String, conversationId: String) async throws -> [ConversationMessage] {
        try reader.fetchAll(
            """
            SELECT \(Self.messageColumns), i.position AS position, i.message_seq AS message_seq
            FROM conversation_items i JOIN messages m ON m.seq = i.message_seq
            WHERE i.conversation = \(Self.conversationNumber) AND i.message_seq > 0
            UNION ALL
            SELECT \(Self.messageColumns), 2 * COALESCE(m.after_event, 0) + 1, m.seq
            FROM messages m WHERE \(SQLiteConversationIndex.unindexedMessage) AND m.project_id = ? AND m.conversation_id = ?
            ORDER BY position, message_seq
            """,
            [.text(projectId), .text(conversationId), .text(projectId), .text(conversationId)]
        ).map(Self.decodeMessage)
    }

    /// A history message's columns, from `messages m`.
    private static let messageColumns = SQLiteRow.list(["conversation_id", "id", "direction", "type", "content", "created_at"], of: "m")

    private static func decodeMessage(_ row: SQLiteRow) throws -> ConversationMessage {
        ConversationMessage(
            conversationId: try row.text("conversation_id"), id: try row.text("id"), direction: try row.enumeration("direction"),
            type: try row.text("type"), content: try row.json("content"), createdAt: try row.timestamp("created_at"))
    }

    package func startConversation(_ conversation: Conversation, messages: [ConversationMessage], events: [OutboxEvent]) async throws {
        try await write(
            { db in
                try db.run(
                    sql: """
                        INSERT INTO conversations (project_id, id, room_id, bot_id, user_id, state, start_at, end_at, ended_reason,
                            assignment, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        conversation.projectId, conversation.id, conversation.roomId, conversation.botId, conversation.userId,
                        conversation.state.rawValue, conversation.startAt.millisecondsSince1970, nil, nil,
                        conversation.assignment.map(CanonicalJSONWriter.string), conversation.metadata.map(CanonicalJSONWriter.string),
                    ])
                let heads = try Self.insert(events, db)
                try Self.insert(messages, projectId: conversation.projectId, after: heads.last?.seq, db)
                return heads
            }, afterCommit: { self.schedule.offer($0) })
        wakeDispatcher()
    }

    package func closeConversation(
        projectId: String, conversationId: String, at time: Timestamp, reason: String,
        messages: [ConversationMessage], events: [OutboxEvent]
    ) async throws -> Conversation? {
        let heads = try await write(
            { db -> [SQLiteDeliverySchedule.Head]? in
                try db.run(
                    sql:
                        "UPDATE conversations SET state = 'closed', end_at = ?, ended_reason = ? WHERE project_id = ? AND id = ? AND state = 'active'",
                    arguments: [time.millisecondsSince1970, reason, projectId, conversationId])
                guard db.changesCount > 0 else { return nil }
                let heads = try Self.insert(events, db)
                try Self.insert(messages, projectId: projectId, after: heads.last?.seq, db)
                return heads
            }, afterCommit: { heads in heads.map { self.schedule.offer($0) } })
        guard heads != nil else { return nil }
        wakeDispatcher()
        return try await conversation(projectId: projectId, id: conversationId)
    }

    package func recordOnce(_ write: IdempotentWrite) async throws -> IdempotentWriteOutcome {
        let (outcome, _) = try await self.write(
            { db -> (IdempotentWriteOutcome, [SQLiteDeliverySchedule.Head]) in
                let previous = {
                    try db.string(
                        sql: "SELECT response FROM idempotency WHERE project_id = ? AND scope = ? AND key = ?",
                        arguments: [write.projectId, write.scope, write.key])
                }
                // Inserting first answers "is it a repeat?" in the same step, and, for a write into a
                // conversation, whether it is still active: nothing is inserted otherwise. A repeat reads
                // the first answer; no answer and no insert means the conversation has stopped being active.
                let record: [SQLiteParameter] = [
                    .text(write.projectId), .text(write.scope), .text(write.key), .text(write.response),
                    .integer(write.at.millisecondsSince1970),
                ]
                if let conversationId = write.activeConversationId {
                    try db.run(
                        sql: """
                            INSERT INTO idempotency (project_id, scope, key, response, created_at) SELECT ?, ?, ?, ?, ?
                            WHERE EXISTS (SELECT 1 FROM conversations WHERE project_id = ?1 AND id = ?6 AND state = 'active')
                            ON CONFLICT DO NOTHING
                            """, record + [.text(conversationId)])
                    if db.changesCount == 0 { return (try previous().map { .duplicate(response: $0) } ?? .conversationNotActive, []) }
                } else {
                    try db.run(
                        sql: "INSERT INTO idempotency (project_id, scope, key, response, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        record)
                    if db.changesCount == 0, let first = try previous() { return (.duplicate(response: first), []) }
                }
                let heads = try Self.insert(write.events, db)
                if let message = write.message { try Self.insert([message], projectId: write.projectId, after: heads.last?.seq, db) }
                return (.recorded, heads)
            }, afterCommit: { self.schedule.offer($0.1) })
        if outcome == .recorded && !write.events.isEmpty { wakeDispatcher() }
        return outcome
    }

    package func recordedResponse(projectId: String, scope: String, key: String) async throws -> String? {
        try reader.fetchOne(
            "SELECT response FROM idempotency WHERE project_id = ? AND scope = ? AND key = ?",
            [.text(projectId), .text(scope), .text(key)])?.text("response")
    }

    /// A conversation's number (see migration 006) as an SQL expression with two parameters, the
    /// project id then the conversation id. NULL for an unknown conversation, which gets no items: a
    /// conversation's row is written before anything of it, and never deleted.
    static let conversationNumber = "(SELECT seq FROM conversations WHERE project_id = ? AND id = ?)"

    /// Inserts history messages, each to be placed right after the newest event (see migration 005;
    /// their items are written in bulk, ``SQLiteConversationIndex``): write a message after the
    /// events written with it, and give the last of those as `newestEvent` (read from the table
    /// when the transaction wrote none).
    static func insert(_ messages: [ConversationMessage], projectId: String, after newestEvent: Int64?, _ db: Database) throws {
        guard !messages.isEmpty else { return }
        let newestEvent = try newestEvent ?? Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM events")) ?? 0
        for message in messages {
            try db.run(
                sql: """
                    INSERT INTO messages (project_id, conversation_id, id, direction, type, content, created_at, after_event)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                [
                    .text(projectId), .text(message.conversationId), .text(message.id), .text(message.direction.rawValue), .text(message.type),
                    .text(CanonicalJSONWriter.string(message.content)), .integer(message.createdAt.millisecondsSince1970), .integer(newestEvent),
                ])
        }
    }

    /// Inserts `events`; returns each as the head its key gets if it has none yet (the schedule decides after the commit).
    static func insert(_ events: [OutboxEvent], _ db: Database) throws -> [SQLiteDeliverySchedule.Head] {
        try events.map { event in
            try db.run(
                sql: """
                    INSERT INTO events (id, project_id, destination, bot_id, ordering_key, conversation_id, event_type,
                        status, attempt_count, next_attempt_at, created_at, settle_room)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, zeroblob(8))
                    """,
                [
                    .text(event.id), .text(event.projectId), .text(event.destination.kind), .init(event.destination.botId),
                    .text(event.orderingKey), .init(event.conversationId), .text(event.eventType), .text(event.status.rawValue),
                    .init(event.attemptCount), .integer(event.nextAttemptAt.millisecondsSince1970), .integer(event.createdAt.millisecondsSince1970),
                ])
            let seq = db.lastInsertedRowID
            try db.run(sql: "INSERT INTO event_bodies (seq, body) VALUES (?, ?)", [.integer(seq), .blob(event.body)])
            return SQLiteDeliverySchedule.Head(
                seq: seq, id: event.id, orderingKey: event.orderingKey, destination: event.destinationKey,
                held: event.status == .held, due: event.nextAttemptAt.millisecondsSince1970, event: event)
        }
    }

    private static let botNames = ["project_id", "id", "name", "channel_webhook_url", "channel_secret_sealed", "created_at", "updated_at"]
    private static let botColumns = SQLiteRow.list(botNames)

    private static func decodeBot(_ row: SQLiteRow) throws -> Bot {
        Bot(
            projectId: try row.text("project_id"), id: try row.text("id"), name: try row.text("name"),
            channelWebhookUrl: try row.optionalText("channel_webhook_url"),
            channelSecret: SealedSecret(storedForm: try row.text("channel_secret_sealed")),
            createdAt: try row.timestamp("created_at"), updatedAt: try row.timestamp("updated_at"))
    }

    private static let conversationNames = [
        "project_id", "id", "room_id", "bot_id", "user_id", "state", "start_at", "end_at", "ended_reason", "assignment", "metadata",
    ]
    private static let conversationColumns = SQLiteRow.list(conversationNames)

    private static func decodeConversation(_ row: SQLiteRow) throws -> Conversation {
        Conversation(
            projectId: try row.text("project_id"), id: try row.text("id"), roomId: try row.text("room_id"), botId: try row.text("bot_id"),
            userId: try row.text("user_id"), state: try row.enumeration("state"), startAt: try row.timestamp("start_at"),
            endAt: try row.optionalTimestamp("end_at"), endedReason: try row.optionalText("ended_reason"),
            assignment: try row.optionalJSON("assignment"), metadata: try row.optionalJSON("metadata"))
    }
}
