/// How both stores lay out a web chat: its columns, and its allowed origins as a JSON array.
enum WebChatRow {
    static let columns = [
        "project_id", "bot_id", "allowed_origins", "start_mode", "greeting", "identity_secret_sealed", "agent_timeout_seconds",
        "created_at", "updated_at",
    ]

    static func origins(_ origins: [String]) -> String { CanonicalJSONWriter.string(.array(origins.map(JSONValue.string))) }

    static func origins(_ stored: JSONValue) throws -> [String] {
        guard case .array(let items) = stored else { throw StoreRowError(column: "allowed_origins", problem: "not a JSON array") }
        return try items.map { item in
            guard case .string(let origin) = item else { throw StoreRowError(column: "allowed_origins", problem: "not a string") }
            return origin
        }
    }
}
