import GRDB

/// The conversation items (the history and the event log by conversation, see migrations 005 and
/// 006), written in bulk rather than with each message.
///
/// An item goes to the end of its conversation: with hundreds of conversations written at once,
/// each message written with its item would dirty one page of `conversation_items` of its own,
/// rewritten whole in the WAL and again by the checkpoint. So events and messages are written without
/// their items, and once `threshold` of them wait, one batch writes all their items, sorted: each
/// conversation's page is then written once for the several items it gets.
///
/// `conversation_items_indexed` holds the newest event and message that have their items, in the
/// same transaction as the items, so a crash loses nothing: what was not indexed is indexed by the
/// next bulk write. Reads by conversation take the indexed items plus the rows written since,
/// found by `seq` (at most about `threshold` rows to look at).
struct SQLiteConversationIndex: Sendable {
    /// Events and messages written without their items before a batch writes them.
    let threshold: Int

    /// How many events and messages wait for their items.
    static let waiting = """
        SELECT COALESCE((SELECT MAX(seq) FROM events), 0) - event_seq + COALESCE((SELECT MAX(seq) FROM messages), 0) - message_seq
        FROM conversation_items_indexed
        """

    /// Messages written since the last bulk write, as an SQL condition on `m`.
    static let unindexedMessage = "m.seq > (SELECT message_seq FROM conversation_items_indexed)"
    /// Events written since the last bulk write, as an SQL condition on `e`.
    static let unindexedEvent = "e.seq > (SELECT event_seq FROM conversation_items_indexed)"

    /// Run at the end of every batch transaction: writes the items once enough wait. A failure
    /// leaves them waiting (reads do not depend on it) and does not fail the batch.
    func catchUp(_ db: Database) {
        guard let waiting = try? db.integer(sql: Self.waiting), waiting >= threshold else { return }
        _ = db.inCachedSavepoint { try Self.writeItems(db) }
    }

    /// The items of every event and message written since the last bulk write, in key order.
    /// (An event or message of an unknown conversation gets none: a conversation's row is written
    /// before anything of it, and never deleted.)
    static func writeItems(_ db: Database) throws {
        try db.run(
            sql: """
                INSERT INTO conversation_items (conversation, position, message_seq, event_seq)
                SELECT c.seq, 2 * e.seq, 0, e.seq FROM events e JOIN conversations c ON c.project_id = e.project_id AND c.id = e.conversation_id
                WHERE \(unindexedEvent) ORDER BY 1, 2
                """)
        try db.run(
            sql: """
                INSERT INTO conversation_items (conversation, position, message_seq)
                SELECT c.seq, 2 * COALESCE(m.after_event, 0) + 1, m.seq FROM messages m
                JOIN conversations c ON c.project_id = m.project_id AND c.id = m.conversation_id
                WHERE \(unindexedMessage) ORDER BY 1, 2, 3
                """)
        try db.run(
            sql: """
                UPDATE conversation_items_indexed SET event_seq = COALESCE((SELECT MAX(seq) FROM events), event_seq),
                    message_seq = COALESCE((SELECT MAX(seq) FROM messages), message_seq)
                """)
    }
}
