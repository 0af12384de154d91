/// One table as `relevo copy` moves it between the two stores: the columns both schemas share, with
/// their kinds, and an order to read rows in that both can follow. What only one schema has (SQLite's
/// `event_bodies`, history index and row padding; PostgreSQL's heads and leases) is derived again by the
/// target from these.
package struct CopyTable: Sendable {
    package enum Kind: Sendable { case text, integer, blob }

    package let name: String
    package let columns: [(name: String, kind: Kind)]
    /// The columns rows are read in the order of, page after page (a unique key): the outbox and
    /// the history in the order they were written.
    package let key: [String]

    /// Every table, parents before children.
    package static let all: [CopyTable] = [
        CopyTable(name: "projects", columns: [("id", .text), ("name", .text), ("created_at", .integer)], key: ["id"]),
        CopyTable(
            name: "api_keys",
            columns: [("id", .text), ("project_id", .text), ("hash", .text), ("created_at", .integer), ("revoked_at", .integer)],
            key: ["id"]),
        CopyTable(
            name: "integrations",
            columns: [
                ("project_id", .text), ("id", .text), ("webhook_url", .text), ("auth_type", .text), ("authorization_sealed", .text),
                ("signing_secret_sealed", .text), ("previous_secret_sealed", .text), ("previous_secret_expires_at", .integer),
                ("created_at", .integer), ("updated_at", .integer),
            ],
            key: ["project_id"]),
        CopyTable(
            name: "bots",
            columns: [
                ("project_id", .text), ("id", .text), ("name", .text), ("channel_webhook_url", .text),
                ("channel_secret_sealed", .text), ("created_at", .integer), ("updated_at", .integer),
            ],
            key: ["project_id", "id"]),
        CopyTable(
            name: "end_users",
            columns: [
                ("project_id", .text), ("id", .text), ("names", .text), ("reference_id", .text), ("created_at", .integer),
                ("updated_at", .integer),
            ],
            key: ["project_id", "id"]),
        CopyTable(
            name: "rooms",
            columns: [
                ("project_id", .text), ("id", .text), ("bot_id", .text), ("user_id", .text), ("channel", .text), ("created_at", .integer),
            ],
            key: ["project_id", "id"]),
        CopyTable(
            name: "web_chats",
            columns: [
                ("project_id", .text), ("bot_id", .text), ("allowed_origins", .text), ("start_mode", .text), ("greeting", .text),
                ("identity_secret_sealed", .text), ("agent_timeout_seconds", .integer), ("created_at", .integer),
                ("updated_at", .integer),
            ],
            key: ["project_id", "bot_id"]),
        CopyTable(
            name: "conversations",
            columns: [
                ("project_id", .text), ("id", .text), ("room_id", .text), ("bot_id", .text), ("user_id", .text), ("state", .text),
                ("start_at", .integer), ("end_at", .integer), ("ended_reason", .text), ("assignment", .text), ("metadata", .text),
            ],
            key: ["start_at", "project_id", "id"]),
        CopyTable(
            name: "events",
            columns: [
                ("id", .text), ("project_id", .text), ("destination", .text), ("bot_id", .text), ("ordering_key", .text),
                ("conversation_id", .text), ("event_type", .text), ("body", .blob), ("status", .text), ("attempt_count", .integer),
                ("retry_base", .integer), ("next_attempt_at", .integer), ("created_at", .integer), ("finished_at", .integer),
            ],
            key: ["seq"]),
        CopyTable(
            name: "messages",
            columns: [
                ("project_id", .text), ("conversation_id", .text), ("id", .text), ("direction", .text), ("type", .text),
                ("content", .text), ("created_at", .integer),
            ],
            key: ["seq"]),
        CopyTable(
            name: "attempts",
            columns: [
                ("event_id", .text), ("number", .integer), ("started_at", .integer), ("duration_ms", .integer),
                ("status_code", .integer), ("error_class", .text), ("response_body", .text),
            ],
            key: ["event_id", "number"]),
        CopyTable(
            name: "idempotency",
            columns: [("project_id", .text), ("scope", .text), ("key", .text), ("response", .text), ("created_at", .integer)],
            key: ["project_id", "scope", "key"]),
    ]
}

/// A value in transit between the stores.
package enum CopyValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case blob([UInt8])
    case null
}

/// One side of a copy: a store opened for the copy alone (no server, no migration of a source).
package protocol CopyEndpoint: Sendable {
    /// The migrations the database has applied, and those this build knows.
    func migrations() async throws -> (applied: Set<String>, known: Set<String>)
    func count(_ table: CopyTable) async throws -> Int
    /// Up to `limit` rows after the one whose key is `key` (from the first when nil), in key order,
    /// values in the table's column order; and the key of the last row read.
    func read(_ table: CopyTable, after key: [CopyValue]?, limit: Int) async throws -> (rows: [[CopyValue]], last: [CopyValue]?)
    /// The sealed secrets to check the master key against: (sealed, context) pairs, at most a few.
    func sealedSamples() async throws -> [(sealed: String, context: String)]
    /// Writes every table, all or nothing: an interrupted copy leaves no data in the target.
    func writeAll(_ fill: @escaping @Sendable (_ insert: @Sendable (CopyTable, [[CopyValue]]) async throws -> Void) async throws -> Void)
        async throws
    /// Makes a complete target the database it names (a SQLite file is renamed into place).
    func finish() async throws
    /// Closes; a target not finished is left without data.
    func close() async throws
}
