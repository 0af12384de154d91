import GRDB

extension SQLiteStore {
    package func webChat(projectId: String, botId: String) async throws -> WebChat? {
        try reader.fetchOne(
            "SELECT \(Self.webChatColumns) FROM web_chats WHERE project_id = ? AND bot_id = ?", [.text(projectId), .text(botId)]
        ).map(Self.decodeWebChat)
    }

    package func saveWebChat(_ chat: WebChat) async throws {
        try await write { db in
            try db.run(
                sql: """
                    INSERT INTO web_chats (\(Self.webChatColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (project_id, bot_id) DO UPDATE SET allowed_origins = excluded.allowed_origins,
                        start_mode = excluded.start_mode, greeting = excluded.greeting,
                        identity_secret_sealed = excluded.identity_secret_sealed,
                        agent_timeout_seconds = excluded.agent_timeout_seconds, updated_at = excluded.updated_at
                    """,
                arguments: [
                    chat.projectId, chat.botId, WebChatRow.origins(chat.allowedOrigins), chat.start.rawValue, chat.greeting,
                    chat.identitySecret?.storedForm, chat.agentTimeoutSeconds, chat.createdAt.millisecondsSince1970,
                    chat.updatedAt.millisecondsSince1970,
                ])
        }
    }

    package func deleteWebChat(projectId: String, botId: String) async throws -> Bool {
        try await write { db in
            try db.run(sql: "DELETE FROM web_chats WHERE project_id = ? AND bot_id = ?", arguments: [projectId, botId])
            return db.changesCount > 0
        }
    }

    private static let webChatColumns = SQLiteRow.list(WebChatRow.columns)

    private static func decodeWebChat(_ row: SQLiteRow) throws -> WebChat {
        WebChat(
            projectId: try row.text("project_id"), botId: try row.text("bot_id"),
            allowedOrigins: try WebChatRow.origins(row.json("allowed_origins")), start: try row.enumeration("start_mode"),
            greeting: try row.optionalText("greeting"),
            identitySecret: try row.optionalText("identity_secret_sealed").map(SealedSecret.init(storedForm:)),
            agentTimeoutSeconds: Int(try row.integer("agent_timeout_seconds")), createdAt: try row.timestamp("created_at"),
            updatedAt: try row.timestamp("updated_at"))
    }
}
