import Foundation
import GRDB

extension SQLiteStore {
    package var deliverySignal: WakeUpSignal { signal }

    func wakeDispatcher() { signal.signal() }

    /// One SQLite server per file delivers (its server lock, docs/operating.md), so the heads and the
    /// claims are kept in memory (``SQLiteDeliverySchedule``): claiming costs no query but the read of
    /// the bodies, and a crash leaves nothing to release — the events simply stay pending in the file.
    package func claimDueEvents(now: Timestamp, leaseUntil: Timestamp, limit: Int, slots: DestinationSlots)
        async throws -> [OutboxEvent]
    {
        let time = now.millisecondsSince1970
        let chosen = schedule.claim(now: time, limit: limit, slots: slots)
        guard !chosen.isEmpty else { return [] }
        let events: [OutboxEvent]
        do {
            // A head carries its event, as the transaction that filed it saw it. Heads read at start
            // do not: one primary-key lookup each, since an `IN (…)` list would build a temporary
            // index (and page cache) per claim.
            events = try chosen.compactMap { head in
                if let event = head.event, event.status == .pending { return event }
                return try reader.fetchOne("SELECT \(Self.eventColumns) FROM events e WHERE e.seq = ?", [.integer(head.seq)])
                    .map { try Self.decodeEvent($0) }
            }
        } catch {
            schedule.release(chosen.map(\.id))
            throw error
        }
        // An event settled otherwise since its head was filed (its integration deleted) is not sent. A
        // carried event is pending; a cancellation that commits after this claim is caught when its
        // settlement finds the row no longer pending, as with a read that came just before it.
        let claimed = events.filter { $0.status == .pending }
        if claimed.count < chosen.count {
            let kept = Set(claimed.map(\.id))
            schedule.release(chosen.map(\.id).filter { !kept.contains($0) })
        }
        return claimed.map { event in
            var event = event
            event.status = .delivering
            return event
        }
    }

    /// A JSON array of strings, for `json_each(?)`.
    static func jsonArray<S: Sequence<String>>(_ values: S) -> String {
        CanonicalJSONWriter.string(.array(values.map(JSONValue.string)))
    }

    package func releaseClaims(_ eventIds: [String]) async throws {
        schedule.release(eventIds)
        signal.signal()
    }

    package func finishAttempt(_ attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws {
        do {
            try await settle(attempt, outcome: outcome)
        } catch {
            // Not recorded: the event is claimable again (at-least-once), as after a restart.
            schedule.release([attempt.eventId])
            throw error
        }
        signal.signal()
    }

    /// Records the attempt and settles its event; once durable, the schedule learns the key's head
    /// (the same event due later, a held one, the next event, or none).
    func settle(_ attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws {
        let (status, next, finished) = outcome.storedColumns
        // Known in memory: the event's row and key, so the write looks up nothing by id.
        let claim = schedule.claim(of: attempt.eventId)
        try await write(
            { db in
                try db.run(
                    sql: """
                        INSERT OR REPLACE INTO attempts (event_id, number, started_at, duration_ms, status_code, error_class, response_body)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    [
                        .text(attempt.eventId), .init(attempt.number), .integer(attempt.startedAt.millisecondsSince1970),
                        .integer(attempt.durationMilliseconds), .init(attempt.statusCode), .init(attempt.errorClass), .init(attempt.responseBody),
                    ])
                // An event cancelled meanwhile (integration deleted) stays cancelled, and its key's head moved then.
                // The row gives back its spare bytes (migration 007) so that it keeps its size.
                // (No RETURNING: SQLite collects those rows in a temporary table, a page cache allocated
                // and freed per statement, which costs more than the update itself.)
                try db.run(
                    sql: claim == nil ? Self.settleById : Self.settleByRow,
                    [.text(status.rawValue), .init(attempt.number), .init(next), .init(finished), .text(attempt.eventId), .init(claim?.seq)])
                guard db.changesCount > 0 else {
                    // Cancelled while the attempt was in flight (the rare case, so the update above stays
                    // one statement): the log lists this attempt, so the event counts it too; its status
                    // and finished_at stay the cancellation's.
                    try db.run(
                        sql: "UPDATE events SET attempt_count = MAX(attempt_count, ?) WHERE id = ? AND status = 'cancelled'",
                        [.init(attempt.number), .text(attempt.eventId)])
                    return []
                }
                guard let key = try claim?.key ?? db.string(sql: "SELECT ordering_key FROM events WHERE id = ?", arguments: [attempt.eventId])
                else { return [] }
                // The head's position only: its event is usually carried in memory as a successor (see
                // SQLiteDeliverySchedule), and reading it here, body and all, would cost about as much as
                // the rest of the settlement.
                return [(key, try db.firstRow(sql: Self.selectCurrentHeadPosition, [.text(key)]).map(Self.decodeHead))]
            },
            afterCommit: { heads in
                self.schedule.update(heads, settled: attempt.eventId)
            })
    }

    /// The settlement's update of its event: by row when the event is claimed (its seq known), else by id.
    private static let settleByRow = settleEvent(where: "seq = ?6 AND id = ?5")
    private static let settleById = settleEvent(where: "id = ?5 AND ?6 IS NULL")

    private static func settleEvent(where row: String) -> String {
        """
        UPDATE events SET status = ?1, attempt_count = MAX(attempt_count, ?2),
            next_attempt_at = COALESCE(?3, next_attempt_at), finished_at = ?4, settle_room = NULL
        WHERE \(row) AND status = 'pending'
        """
    }

    package func nextDueTime(after now: Timestamp) async throws -> Timestamp? {
        schedule.nextDue(after: now.millisecondsSince1970).map(Timestamp.init(millisecondsSince1970:))
    }

    /// The head of each of `keys` as the transaction sees it: its oldest unsettled event, or nil.
    /// (Unsettled is `finished_at IS NULL`, the condition of events_unsettled, see migration 003.)
    /// The head carries its event, read here on the writer, whose pages are warm, so that the claim
    /// need not read it again from a read connection, whose page cache each commit empties.
    static func currentHeads(_ keys: some Sequence<String>, _ db: Database) throws -> [SQLiteDeliverySchedule.KeyHead] {
        try Set(keys).map { key in try (key, currentHead(key, db)) }
    }

    /// ``currentHeads(_:_:)`` of one key (a settlement's).
    static func currentHead(_ key: String, _ db: Database) throws -> SQLiteDeliverySchedule.Head? {
        try db.firstRow(sql: selectCurrentHead, [.text(key)]).map { row in
            var head = try decodeHead(row)
            head.event = try decodeEvent(row)
            return head
        }
    }

    /// Built once, rather than as an interpolated literal at the call, built again on every settlement.
    private static let selectCurrentHead = """
        SELECT \(headColumns), \(eventColumns) FROM events e
        WHERE ordering_key = ? AND finished_at IS NULL ORDER BY seq LIMIT 1
        """

    private static let selectCurrentHeadPosition = """
        SELECT \(headColumns) FROM events WHERE ordering_key = ? AND finished_at IS NULL ORDER BY seq LIMIT 1
        """

    /// Every key's head, read at start: the oldest unsettled event of each ordering key.
    static func allHeads(_ reader: SQLiteReader) throws -> [SQLiteDeliverySchedule.Head] {
        try reader.fetchAll(
            """
            SELECT \(headColumns) FROM events WHERE seq IN (
                SELECT MIN(seq) FROM events WHERE finished_at IS NULL GROUP BY ordering_key)
            """, []
        ).map(decodeHead)
    }

    /// A head's columns, from `events` (as `e` or unqualified); `destination_key` is ``OutboxEvent/destinationKey``.
    static let headColumns = """
        seq AS head_seq, id AS head_id, ordering_key AS head_key,
        project_id || ':' || destination || COALESCE(':' || bot_id, '') AS head_destination, status AS head_status,
        next_attempt_at AS head_due
        """

    static func decodeHead(_ row: SQLiteRow) throws -> SQLiteDeliverySchedule.Head {
        SQLiteDeliverySchedule.Head(
            seq: try row.integer("head_seq"), id: try row.text("head_id"), orderingKey: try row.text("head_key"),
            destination: try row.text("head_destination"),
            held: try row.enumeration("head_status", as: OutboxEvent.Status.self) == .held, due: try row.integer("head_due"))
    }

    package func event(projectId: String, id: String) async throws -> (LoggedEvent, [DeliveryAttempt])? {
        guard
            let row = try reader.fetchOne(
                "SELECT \(Self.eventColumns) FROM events e WHERE project_id = ? AND id = ?", [.text(projectId), .text(id)])
        else { return nil }
        let attempts = try reader.fetchAll(
            """
            SELECT event_id, number, started_at, duration_ms, status_code, error_class, response_body
            FROM attempts WHERE event_id = ? ORDER BY number
            """,
            [.text(id)]
        ).map { row in
            DeliveryAttempt(
                eventId: try row.text("event_id"), number: Int(try row.integer("number")),
                startedAt: try row.timestamp("started_at"), durationMilliseconds: try row.integer("duration_ms"),
                statusCode: try row.optionalInteger("status_code").map(Int.init), errorClass: try row.optionalText("error_class"),
                responseBody: try row.optionalText("response_body"))
        }
        return (inFlightView(try Self.decodeLoggedEvent(row)), attempts)
    }

    package func events(projectId: String, status: OutboxEvent.Status?, conversationId: String?, limit: Int, before cursor: Int64?)
        async throws -> [LoggedEvent]
    {
        // The status filter, on `e`, with its argument if it has one.
        var filter = ""
        var filterArguments: [SQLiteParameter] = []
        if let status {
            // Claims live in memory: `delivering` is a pending row with an attempt in flight.
            let inFlight = SQLiteParameter.text(Self.jsonArray(schedule.claimedIds))
            switch status {
            case .delivering:
                filter = " AND e.status = 'pending' AND e.id IN (SELECT value FROM json_each(?))"
                filterArguments = [inFlight]
            case .pending:
                filter = " AND e.status = 'pending' AND e.id NOT IN (SELECT value FROM json_each(?))"
                filterArguments = [inFlight]
            default:
                // A literal (the status is one of a fixed set), so `failed` can use its partial index.
                filter = " AND e.status = '\(status.rawValue)'"
            }
        }
        let sql: String
        var arguments: [SQLiteParameter]
        let before = min(cursor ?? Int64.max / 2, Int64.max / 2)
        if let conversationId {
            // The conversation's events, newest first: through its items (migration 005), and the
            // events written since the items' last bulk write (SQLiteConversationIndex).
            sql = """
                SELECT \(Self.eventColumns), i.position FROM conversation_items i JOIN events e ON e.seq = i.event_seq
                WHERE i.conversation = \(Self.conversationNumber) AND i.message_seq = 0 AND i.position < ?\(filter)
                UNION ALL
                SELECT \(Self.eventColumns), 2 * e.seq FROM events e
                WHERE \(SQLiteConversationIndex.unindexedEvent) AND e.project_id = ? AND e.conversation_id = ? AND e.seq < ?\(filter)
                ORDER BY 16 DESC LIMIT ?
                """
            arguments =
                [.text(projectId), .text(conversationId), .integer(2 * before)] + filterArguments
                + [.text(projectId), .text(conversationId), .integer(before)] + filterArguments
        } else {
            sql = "SELECT \(Self.eventColumns) FROM events e WHERE project_id = ? AND seq < ?\(filter) ORDER BY e.seq DESC LIMIT ?"
            arguments = [.text(projectId), .integer(cursor ?? Int64.max)] + filterArguments
        }
        arguments.append(.integer(Int64(limit)))
        return try reader.fetchAll(sql, arguments).map { inFlightView(try Self.decodeLoggedEvent($0)) }
    }

    package func redeliver(projectId: String, id: String, at time: Timestamp) async throws -> RedeliveryOutcome {
        let (outcome, _) = try await write(
            { db -> (RedeliveryOutcome, [SQLiteDeliverySchedule.KeyHead]) in
                guard
                    let row = try Row.fetchOne(
                        db.cachedStatement(sql: "SELECT status, ordering_key FROM events WHERE project_id = ? AND id = ?"),
                        arguments: [projectId, id])
                else { return (.notFound, []) }
                let status = try row.decode(String.self, forColumn: "status"), key = try row.decode(String.self, forColumn: "ordering_key")
                guard status == "delivered" || status == "failed" else {
                    let inFlight = status == "pending" && self.schedule.isClaimed(id)
                    return (.notRedeliverable(inFlight ? .delivering : OutboxEvent.Status(rawValue: status) ?? .pending), [])
                }
                try db.run(
                    sql: """
                        UPDATE events SET status = 'pending', next_attempt_at = ?, finished_at = NULL,
                            retry_base = attempt_count WHERE project_id = ? AND id = ?
                        """,
                    arguments: [time.millisecondsSince1970, projectId, id])
                return (.queued, try Self.currentHeads([key], db))
            }, afterCommit: { self.schedule.update($0.1) })
        if outcome == .queued { signal.signal() }
        return outcome
    }

    package func redeliverFailed(projectId: String, since: Timestamp, at time: Timestamp) async throws -> Int {
        let (count, _) = try await write(
            { db -> (Int, [SQLiteDeliverySchedule.KeyHead]) in
                let keys = try db.strings(
                    sql: "SELECT DISTINCT ordering_key FROM events WHERE project_id = ? AND status = 'failed' AND created_at >= ?",
                    arguments: [projectId, since.millisecondsSince1970])
                try db.run(
                    sql: """
                        UPDATE events SET status = 'pending', next_attempt_at = ?, finished_at = NULL,
                            retry_base = attempt_count WHERE project_id = ? AND status = 'failed' AND created_at >= ?
                        """,
                    arguments: [time.millisecondsSince1970, projectId, since.millisecondsSince1970])
                return (db.changesCount, try Self.currentHeads(keys, db))
            }, afterCommit: { self.schedule.update($0.1) })
        if count > 0 { signal.signal() }
        return count
    }

    /// An event's columns, from `events e`, its body from `event_bodies`.
    static let eventColumns =
        SQLiteRow.list(
            [
                "id", "project_id", "destination", "bot_id", "ordering_key", "conversation_id", "event_type", "status",
                "attempt_count", "next_attempt_at", "created_at", "retry_base", "seq", "finished_at",
            ], of: "e")
        + ", (SELECT body FROM event_bodies b WHERE b.seq = e.seq) AS body"

    package func pruneDelivered(settledBefore cutoff: Timestamp, limit: Int) async throws -> Int {
        try await write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, id, project_id, conversation_id FROM events
                    WHERE status = 'delivered' AND finished_at < ? ORDER BY finished_at LIMIT ?
                    """,
                arguments: [cutoff.millisecondsSince1970, limit])
            for row in rows {
                let seq = try row.decode(Int64.self, forColumn: "seq"), id = try row.decode(String.self, forColumn: "id")
                let projectId = try row.decode(String.self, forColumn: "project_id")
                let conversationId = try row.decode(String?.self, forColumn: "conversation_id")
                try db.run(sql: "DELETE FROM attempts WHERE event_id = ?", arguments: [id])
                try db.run(sql: "DELETE FROM event_bodies WHERE seq = ?", arguments: [seq])
                if let conversationId {  // the event's item; the history's stay
                    try db.run(
                        sql: "DELETE FROM conversation_items WHERE conversation = \(Self.conversationNumber) AND position = ? AND message_seq = 0",
                        arguments: [projectId, conversationId, 2 * seq])
                }
                try db.run(sql: "DELETE FROM events WHERE seq = ?", arguments: [seq])
            }
            return rows.count
        }
    }

    package func queueStatistics() async throws -> (depth: Int, oldestPendingCreatedAt: Timestamp?) {
        // The oldest pending event heads its key (or waits behind a held one): the schedule knows the heads.
        let row = try reader.fetchOne(
            """
            SELECT (SELECT COUNT(*) FROM events WHERE finished_at IS NULL) AS depth,
                   (SELECT created_at FROM events WHERE seq = ?) AS oldest
            """, [schedule.oldestWaiting().map(SQLiteParameter.integer) ?? .null])
        guard let row else { throw StoreRowError(column: "depth", problem: "no row") }
        return (Int(try row.integer("depth")), try row.optionalTimestamp("oldest"))
    }

    package func deliverySummary(projectId: String, since: Timestamp) async throws -> DeliverySummary {
        // Each part through the index that holds few rows: the unsettled events of every project (a
        // queue is short), the project's failed events, the delivered ones newest first.
        let row = try reader.fetchOne(
            """
            SELECT (SELECT COUNT(*) FROM events INDEXED BY events_unsettled WHERE finished_at IS NULL AND project_id = ?1) AS depth,
                (SELECT MIN(created_at) FROM events INDEXED BY events_unsettled
                    WHERE finished_at IS NULL AND status = 'pending' AND project_id = ?1) AS oldest,
                (SELECT COUNT(*) FROM events INDEXED BY events_delivered
                    WHERE status = 'delivered' AND finished_at >= ?2 AND project_id = ?1) AS delivered,
                (SELECT COUNT(*) FROM events INDEXED BY events_failed WHERE status = 'failed' AND project_id = ?1 AND finished_at >= ?2) AS failed,
                (SELECT COUNT(*) FROM events INDEXED BY events_failed WHERE status = 'failed' AND project_id = ?1) AS failed_total,
                (SELECT finished_at FROM events INDEXED BY events_delivered WHERE status = 'delivered' AND project_id = ?1
                    ORDER BY finished_at DESC LIMIT 1) AS last_delivered
            """, [.text(projectId), .integer(since.millisecondsSince1970)])
        guard let row else { throw StoreRowError(column: "depth", problem: "no row") }
        return DeliverySummary(
            queueDepth: Int(try row.integer("depth")), oldestPendingCreatedAt: try row.optionalTimestamp("oldest"),
            deliveredSince: Int(try row.integer("delivered")), failedSince: Int(try row.integer("failed")),
            failedTotal: Int(try row.integer("failed_total")), lastDeliveredAt: try row.optionalTimestamp("last_delivered"))
    }

    /// A pending event with an attempt in flight is shown as `delivering`.
    private func inFlightView(_ logged: LoggedEvent) -> LoggedEvent {
        guard logged.event.status == .pending, schedule.isClaimed(logged.event.id) else { return logged }
        var event = logged.event
        event.status = .delivering
        return LoggedEvent(event: event, sequence: logged.sequence, finishedAt: logged.finishedAt)
    }

    static func decodeLoggedEvent(_ row: SQLiteRow) throws -> LoggedEvent {
        LoggedEvent(event: try decodeEvent(row), sequence: try row.integer("seq"), finishedAt: try row.optionalTimestamp("finished_at"))
    }

    static func decodeEvent(_ row: SQLiteRow) throws -> OutboxEvent {
        let destination: OutboxEvent.Destination =
            switch try row.text("destination") {
            case "panel": .panel
            case "channel": .channel(botId: try row.text("bot_id"))
            case let other: throw StoreRowError(column: "destination", problem: "unknown value \(other)")
            }
        return OutboxEvent(
            id: try row.text("id"), projectId: try row.text("project_id"), destination: destination,
            orderingKey: try row.text("ordering_key"), conversationId: try row.optionalText("conversation_id"),
            eventType: try row.text("event_type"), body: try row.bytes("body"), status: try row.enumeration("status"),
            attemptCount: Int(try row.integer("attempt_count")), retryBase: Int(try row.integer("retry_base")),
            nextAttemptAt: try row.timestamp("next_attempt_at"), createdAt: try row.timestamp("created_at"))
    }
}
