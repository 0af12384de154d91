import PostgresNIO

extension PostgresStore {
    package func webChat(projectId: String, botId: String) async throws -> WebChat? {
        try await rows(
            "SELECT \(columns: WebChatRow.columns) FROM web_chats WHERE project_id = \(projectId) AND bot_id = \(botId)"
        ).first.map(Self.decodeWebChat)
    }

    package func saveWebChat(_ chat: WebChat) async throws {
        try await transaction { connection in
            try await connection.run(
                """
                INSERT INTO web_chats (project_id, bot_id, allowed_origins, start_mode, greeting, identity_secret_sealed,
                    agent_timeout_seconds, created_at, updated_at)
                VALUES (\(chat.projectId), \(chat.botId), \(WebChatRow.origins(chat.allowedOrigins)), \(chat.start.rawValue),
                    \(chat.greeting), \(chat.identitySecret?.storedForm), \(Int64(chat.agentTimeoutSeconds)),
                    \(chat.createdAt.millisecondsSince1970), \(chat.updatedAt.millisecondsSince1970))
                ON CONFLICT (project_id, bot_id) DO UPDATE SET allowed_origins = excluded.allowed_origins,
                    start_mode = excluded.start_mode, greeting = excluded.greeting,
                    identity_secret_sealed = excluded.identity_secret_sealed,
                    agent_timeout_seconds = excluded.agent_timeout_seconds, updated_at = excluded.updated_at
                """)
        }
    }

    package func deleteWebChat(projectId: String, botId: String) async throws -> Bool {
        try await transaction { connection in
            try await connection.run("DELETE FROM web_chats WHERE project_id = \(projectId) AND bot_id = \(botId) RETURNING 1") > 0
        }
    }

    private static func decodeWebChat(_ row: PostgresRandomAccessRow) throws -> WebChat {
        WebChat(
            projectId: try row.value("project_id"), botId: try row.value("bot_id"),
            allowedOrigins: try WebChatRow.origins(row.json("allowed_origins")), start: try row.enumeration("start_mode"),
            greeting: try row.value("greeting"),
            identitySecret: try row.value("identity_secret_sealed", as: String?.self).map(SealedSecret.init(storedForm:)),
            agentTimeoutSeconds: Int(try row.value("agent_timeout_seconds", as: Int64.self)),
            createdAt: try row.timestamp("created_at"), updatedAt: try row.timestamp("updated_at"))
    }
}
