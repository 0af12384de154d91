import Foundation
import GRDB

extension SQLiteStore {
    public var deliverySignal: WakeUpSignal { signal }

    func wakeDispatcher() { signal.signal() }

    /// One SQLite server per file delivers (see the README), so claims are kept in memory: claiming is
    /// a read, not a commit, and a crash leaves nothing to release — the events simply stay pending.
    public func claimDueEvents(now: Timestamp, leaseUntil: Timestamp, limit: Int, room: DestinationRoom)
        async throws -> [OutboxEvent]
    {
        var room = room
        let busy = claims.withLock { $0 }
        // Heads only: the oldest unsettled event of each key, so nothing overtakes an older event.
        // CROSS JOIN makes SQLite walk the heads in order rather than every pending event. The lists
        // travel as one JSON parameter each, so the statement's text never changes and stays prepared.
        let heads = try reader.fetchAll(
            """
            SELECT e.seq, e.id, e.project_id || ':' || e.destination || COALESCE(':' || e.bot_id, '')
            FROM heads h INDEXED BY heads_by_seq CROSS JOIN events e ON e.seq = h.seq
            WHERE e.status = 'pending' AND e.next_attempt_at <= ?
              AND e.id NOT IN (SELECT value FROM json_each(?))
              AND (e.project_id || ':' || e.destination || COALESCE(':' || e.bot_id, '')) NOT IN (SELECT value FROM json_each(?))
            ORDER BY h.seq LIMIT ?
            """,
            [.integer(now.millisecondsSince1970), .text(Self.jsonArray(busy)), .text(Self.jsonArray(room.saturated)),
             .integer(Int64(limit))])
        // Within each destination's room; the bodies are read for the chosen events only.
        let chosen = heads.filter { room.take($0[2].text ?? "") }.compactMap { $0[0].integer }
        guard !chosen.isEmpty else { return [] }
        let candidates = try reader.fetchAll(
            "SELECT \(Self.eventColumns) FROM events e WHERE e.seq IN (SELECT value FROM json_each(?)) ORDER BY e.seq",
            [.text("[" + chosen.map(String.init).joined(separator: ",") + "]")]
        ).map(Self.decodeEvent)
        return claims.withLock { claimed in
            candidates.compactMap { event in
                guard event.status == .pending, claimed.insert(event.id).inserted else { return nil }
                var event = event
                event.status = .delivering
                return event
            }
        }
    }

    /// A JSON array of strings, for `json_each(?)`.
    static func jsonArray<S: Sequence<String>>(_ values: S) -> String {
        CanonicalJSONWriter.string(.array(values.map(JSONValue.string)))
    }

    public func releaseClaims(_ eventIds: [String]) async throws {
        claims.withLock { claimed in for id in eventIds { claimed.remove(id) } }
        signal.signal()
    }

    public func finishAttempt(_ attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws {
        defer { claims.withLock { _ = $0.remove(attempt.eventId) } }
        try await settle([Settlement(attempt: attempt, outcome: outcome)])
        signal.signal()
    }

    /// Records attempts and settles their events (attempts finishing together share a commit: ``SQLiteWriteQueue``).
    func settle(_ batch: [Settlement]) async throws {
        try await write { db in
            var settledKeys: [String] = []
            for settlement in batch {
                let attempt = settlement.attempt
                try db.run(
                    sql: """
                        INSERT OR REPLACE INTO attempts (event_id, number, started_at, duration_ms, status_code, error_class, response_body)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [attempt.eventId, attempt.number, attempt.startedAt.millisecondsSince1970, attempt.durationMilliseconds,
                                attempt.statusCode, attempt.errorClass, attempt.responseBody])
                let (status, next, finished): (OutboxEvent.Status, Int64?, Int64?) = switch settlement.outcome {
                case .delivered(let at): (.delivered, nil, at.millisecondsSince1970)
                case .retry(let at): (.pending, at.millisecondsSince1970, nil)
                case .failed(let at): (.failed, nil, at.millisecondsSince1970)
                case .cancelled(let at): (.cancelled, nil, at.millisecondsSince1970)
                case .held: (.held, nil, nil)
                }
                // Only the lease holder settles: an event cancelled meanwhile (integration deleted) stays cancelled.
                try db.run(
                    sql: """
                        UPDATE events SET status = ?, attempt_count = MAX(attempt_count, ?),
                            next_attempt_at = COALESCE(?, next_attempt_at), locked_until = NULL, finished_at = ?
                        WHERE id = ? AND status IN ('pending', 'delivering')
                        """,
                    arguments: [status.rawValue, attempt.number, next, finished, attempt.eventId])
                if finished != nil, let key = try db.string(sql: "SELECT ordering_key FROM events WHERE id = ?", arguments: [attempt.eventId]) {
                    settledKeys.append(key)
                }
            }
            try Self.refreshHeads(settledKeys, db)
        }
    }

    public func nextDueTime(after now: Timestamp) async throws -> Timestamp? {
        try reader.fetchOne(
            "SELECT MIN(next_attempt_at) FROM events WHERE status = 'pending' AND next_attempt_at > ?", [.integer(now.millisecondsSince1970)]
        )?[0].integer.map(Timestamp.init(millisecondsSince1970:))
    }

    /// Nothing to do: SQLite claims live in memory (one delivering server per file), so events whose
    /// attempt a crash interrupted are still `pending` in the file.
    public func releaseInterruptedDeliveries() async throws {}

    public func event(projectId: String, id: String) async throws -> (LoggedEvent, [DeliveryAttempt])? {
        guard let row = try reader.fetchOne(
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
                eventId: row[0].text ?? "", number: Int(row[1].integer ?? 0),
                startedAt: Timestamp(millisecondsSince1970: row[2].integer ?? 0), durationMilliseconds: row[3].integer ?? 0,
                statusCode: row[4].integer.map(Int.init), errorClass: row[5].text, responseBody: row[6].text)
        }
        return (inFlightView(Self.decodeLoggedEvent(row)), attempts)
    }

    public func events(projectId: String, status: OutboxEvent.Status?, conversationId: String?, limit: Int, before cursor: Int64?)
        async throws -> [LoggedEvent]
    {
        var sql = "SELECT \(Self.eventColumns) FROM events e WHERE project_id = ? AND seq < ?"
        var arguments: [SQLiteParameter] = [.text(projectId), .integer(cursor ?? Int64.max)]
        if let status {
            // Claims live in memory: `delivering` is a pending row with an attempt in flight.
            let inFlight = SQLiteParameter.text(Self.jsonArray(claims.withLock { $0 }))
            switch status {
            case .delivering: sql += " AND status = 'pending' AND id IN (SELECT value FROM json_each(?))"
            case .pending: sql += " AND status = 'pending' AND id NOT IN (SELECT value FROM json_each(?))"
            default: sql += " AND status = ?"
            }
            arguments.append(status == .delivering || status == .pending ? inFlight : .text(status.rawValue))
        }
        if let conversationId {
            sql += " AND conversation_id = ?"
            arguments.append(.text(conversationId))
        }
        sql += " ORDER BY seq DESC LIMIT ?"
        arguments.append(.integer(Int64(limit)))
        return try reader.fetchAll(sql, arguments).map { inFlightView(Self.decodeLoggedEvent($0)) }
    }

    public func redeliver(projectId: String, id: String, at time: Timestamp) async throws -> RedeliveryOutcome {
        let outcome = try await write { db -> RedeliveryOutcome in
            guard let status = try db.string(sql: "SELECT status FROM events WHERE project_id = ? AND id = ?", arguments: [projectId, id])
            else { return .notFound }
            guard status == "delivered" || status == "failed" else {
                let inFlight = status == "pending" && self.claims.withLock { $0.contains(id) }
                return .notRedeliverable(inFlight ? .delivering : OutboxEvent.Status(rawValue: status) ?? .pending)
            }
            try db.run(
                sql: """
                    UPDATE events SET status = 'pending', next_attempt_at = ?, finished_at = NULL, locked_until = NULL,
                        retry_base = attempt_count WHERE project_id = ? AND id = ?
                    """,
                arguments: [time.millisecondsSince1970, projectId, id])
            try Self.refreshHeads(try db.strings(sql: "SELECT ordering_key FROM events WHERE id = ?", arguments: [id]), db)
            return .queued
        }
        if outcome == .queued { signal.signal() }
        return outcome
    }

    public func redeliverFailed(projectId: String, since: Timestamp, at time: Timestamp) async throws -> Int {
        let count = try await write { db -> Int in
            let keys = try db.strings(sql: "SELECT DISTINCT ordering_key FROM events WHERE project_id = ? AND status = 'failed' AND created_at >= ?",
                arguments: [projectId, since.millisecondsSince1970])
            try db.run(
                sql: """
                    UPDATE events SET status = 'pending', next_attempt_at = ?, finished_at = NULL, locked_until = NULL,
                        retry_base = attempt_count WHERE project_id = ? AND status = 'failed' AND created_at >= ?
                    """,
                arguments: [time.millisecondsSince1970, projectId, since.millisecondsSince1970])
            let count = db.changesCount
            try Self.refreshHeads(keys, db)
            return count
        }
        if count > 0 { signal.signal() }
        return count
    }

    static let eventColumns = """
        e.id, e.project_id, e.destination, e.bot_id, e.ordering_key, e.conversation_id, e.event_type, e.body, e.status,
        e.attempt_count, e.next_attempt_at, e.created_at, e.retry_base, e.seq, e.finished_at
        """

    static func columns(_ row: Row) -> [SQLiteColumn] {
        row.databaseValues.map { value in
            switch value.storage {
            case .int64(let number): .integer(number)
            case .string(let text): .text(text)
            case .blob(let data): .blob(Array(data))
            default: .null
            }
        }
    }

    public func pruneDelivered(settledBefore cutoff: Timestamp, limit: Int) async throws -> Int {
        try await write { db in
            let ids = try db.strings(sql: "SELECT id FROM events WHERE status = 'delivered' AND finished_at < ? ORDER BY seq LIMIT ?",
                arguments: [cutoff.millisecondsSince1970, limit])
            for id in ids {
                try db.run(sql: "DELETE FROM attempts WHERE event_id = ?", arguments: [id])
                try db.run(sql: "DELETE FROM events WHERE id = ?", arguments: [id])
            }
            return ids.count
        }
    }

    public func queueStatistics() async throws -> (depth: Int, oldestPendingCreatedAt: Timestamp?) {
        let row = try reader.fetchOne(
            """
            SELECT (SELECT COUNT(*) FROM events WHERE status IN ('pending', 'delivering', 'held')),
                   (SELECT MIN(created_at) FROM events WHERE status = 'pending')
            """, [])
        return (Int(row?[0].integer ?? 0), row?[1].integer.map(Timestamp.init(millisecondsSince1970:)))
    }

    /// A pending event with an attempt in flight is shown as `delivering`.
    private func inFlightView(_ logged: LoggedEvent) -> LoggedEvent {
        guard logged.event.status == .pending, claims.withLock({ $0.contains(logged.event.id) }) else { return logged }
        var event = logged.event
        event.status = .delivering
        return LoggedEvent(event: event, sequence: logged.sequence, finishedAt: logged.finishedAt)
    }

    static func decodeLoggedEvent(_ row: [SQLiteColumn]) -> LoggedEvent {
        LoggedEvent(event: decodeEvent(row), sequence: row[13].integer ?? 0,
                    finishedAt: row[14].integer.map(Timestamp.init(millisecondsSince1970:)))
    }

    static func decodeEvent(_ row: [SQLiteColumn]) -> OutboxEvent {
        OutboxEvent(
            id: row[0].text ?? "", projectId: row[1].text ?? "",
            destination: row[2].text == "channel" ? .channel(botId: row[3].text ?? "") : .panel,
            orderingKey: row[4].text ?? "", conversationId: row[5].text, eventType: row[6].text ?? "",
            body: row[7].bytes ?? [], status: OutboxEvent.Status(rawValue: row[8].text ?? "") ?? .pending,
            attemptCount: Int(row[9].integer ?? 0), retryBase: Int(row[12].integer ?? 0),
            nextAttemptAt: Timestamp(millisecondsSince1970: row[10].integer ?? 0),
            createdAt: Timestamp(millisecondsSince1970: row[11].integer ?? 0))
    }
}

/// One attempt and how it settles its event, as queued for a group commit.
struct Settlement: Sendable {
    let attempt: DeliveryAttempt
    let outcome: DeliveryOutcome
}
