import NIOCore
import PostgresNIO

extension PostgresStore {
    package var deliverySignal: WakeUpSignal { signal }

    /// Leases the due heads with `FOR UPDATE SKIP LOCKED`: instances claiming at the same moment
    /// take disjoint events, and an event stays `delivering` under one instance's lease until it is
    /// settled or the lease ends (its instance died), when any instance may take it again.
    ///
    /// Two statements: the due heads are read first (no locks) and cut to each destination's room, and
    /// only those are leased. One statement could not apply the room, and leasing what a busy panel
    /// cannot take only to give it back cost a transaction per claim.
    ///
    /// The claim counts the attempt (`attempt_count + 1`), so that an attempt taken over after a lease
    /// ended gets the next number rather than the one the dead instance had started.
    package func claimDueEvents(now: Timestamp, leaseUntil: Timestamp, limit: Int, slots: DestinationSlots)
        async throws -> [OutboxEvent]
    {
        let millis = now.millisecondsSince1970
        var slots = slots
        let candidates = try await rows(PreparedQuery<DueHeads>(Array(slots.saturated), millis, Int64(limit)))
        let chosen = try candidates.compactMap { row in
            try slots.take(row.value("destination_key")) ? try row.value("seq", as: Int64.self) : nil
        }
        guard !chosen.isEmpty else { return [] }
        let claimed = try await rows(PreparedQuery<Lease>(chosen, millis, leaseUntil.millisecondsSince1970, instanceId))
        // The attempt in hand is not counted yet in the event the dispatcher sees (it numbers it count + 1).
        return try claimed.map(Self.decodeLoggedEvent).sorted { $0.sequence < $1.sequence }.map { logged in
            var event = logged.event
            event.attemptCount -= 1
            return event
        }
    }

    /// The due heads, oldest first, but those of saturated destinations: `heads` alone, which holds
    /// one row per ordering key with work left (migration 007). $1 the saturated destination keys,
    /// $2 now (ms), $3 the limit.
    enum DueHeads: PreparedSQL {
        static let sql = """
            SELECT seq, destination_key FROM heads WHERE due_at <= $2 AND destination_key <> ALL($1::text[])
            ORDER BY seq LIMIT $3
            """
    }

    /// Leases the chosen heads. One statement, so no explicit transaction: the row locks last until
    /// it commits. The event keeps its `status` (`pending`, read as `delivering` while it has a lease
    /// owner): the lease writes no indexed column, so PostgreSQL can update the row in place
    /// (migration 008). The head and its due time are checked again under the lock (another instance
    /// may have taken or settled it); both rows are locked with SKIP LOCKED, so a claim never waits for a
    /// settlement, which takes the event's row and then its head's. `e.seq = ANY($1)` repeats what the
    /// join implies so that `events` is read by its primary key whatever its statistics say (a plan
    /// cached on a small table otherwise scans it). $1 the chosen seqs, $2 now (ms), $3 the lease's
    /// end, $4 this instance.
    /// Its rows are used as they come, before its commit: a lease that a crash undoes
    /// leaves its event claimable, and the attempt's settlement is refused as not the lease holder's,
    /// so the worst is the event sent twice, which at-least-once allows.
    enum Lease: PreparedSQL {
        static let sql = """
            WITH due AS (
                SELECT h.ordering_key, e.seq FROM heads h JOIN events e ON e.seq = h.seq
                WHERE h.seq = ANY($1::bigint[]) AND e.seq = ANY($1::bigint[]) AND h.due_at <= $2
                FOR UPDATE OF h, e SKIP LOCKED
            ), leased AS (
                UPDATE heads h SET due_at = $3 FROM due WHERE h.ordering_key = due.ordering_key
            )
            UPDATE events e SET locked_until = $3, lease_owner = $4, attempt_count = e.attempt_count + 1
            FROM due WHERE e.seq = due.seq
            RETURNING \(PostgresStore.eventSelectList)
            """
    }

    package func releaseClaims(_ eventIds: [String]) async throws {
        guard !eventIds.isEmpty else { return }
        let owner = instanceId
        // The NOTIFY inside the transaction: this runs at shutdown, when an announcement left to
        // ``DueAnnouncer`` could be lost with the process; and it is rare, so it serializes nothing.
        let released = try await transaction { connection in
            let keys = try await connection.rows(
                "SELECT ordering_key FROM events WHERE id = ANY(\(eventIds)::text[]) AND status = 'pending' AND lease_owner = \(owner)"
            ).map { try $0.value("ordering_key", as: String.self) }
            try await Self.lockOrderingKeys(keys, connection)
            let released = try await connection.run(
                """
                UPDATE events SET locked_until = NULL, lease_owner = NULL, attempt_count = attempt_count - 1
                WHERE id = ANY(\(eventIds)::text[]) AND status = 'pending' AND lease_owner = \(owner) RETURNING 1
                """)
            try await Self.refreshHeads(keys, connection)
            if released > 0 { _ = try await connection.run("SELECT pg_notify(\(Self.eventsChannel), '')") }
            return released
        }
        if released > 0 { signal.signal() }
    }

    /// Written with the settlements made meanwhile (``settlements``): the attempt, the settlement if
    /// this instance still holds the lease, and the key's next head.
    package func finishAttempt(_ attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws {
        let (status, next, finished) = outcome.storedColumns
        let settled = try await settlements.submit(
            Settlement(attempt: attempt, status: status.rawValue, nextAttemptAt: next, finishedAt: finished)
        ) { [self] batch in try await writeSettlements(batch) }
        if settled { headsVacuum.settled(1) }
        if settled, let next { nextDue.scheduled(next) }
        // The key's next event is its head now (a retry stays the head, and is timed by the poll).
        if settled && finished != nil { announceDue() } else { signal.signal() }
    }

    /// An attempt and the event's stored state after it, as one batch of settlements writes it.
    struct Settlement: Sendable {
        let attempt: DeliveryAttempt
        let status: String
        let nextAttemptAt: Int64?
        let finishedAt: Int64?
    }

    /// One statement (`relevo_finish_attempts`, migration 004) for a batch of settlements; for each,
    /// whether it settled its event. Arrays cannot carry NULL from here: -1 stands for no status code,
    /// no next attempt and no finish, '' for no error class, and `has_body` says whether a response body came.
    /// Answered on its rows, which PostgreSQL sends before the commit: a settlement lost with the
    /// server leaves its event leased, and the lease's end has it sent again, which at-least-once allows.
    func writeSettlements(_ batch: [Settlement]) async throws -> [Result<Bool, any Error>] {
        let attempts = batch.map(\.attempt)
        let rows = try await write(
            """
            SELECT relevo_finish_attempts(\(attempts.map(\.eventId)), \(attempts.map { Int64($0.number) }),
                \(attempts.map(\.startedAt.millisecondsSince1970)), \(attempts.map { Int64($0.durationMilliseconds) }),
                \(attempts.map { Int64($0.statusCode ?? -1) }), \(attempts.map { $0.errorClass ?? "" }),
                \(attempts.map { $0.responseBody ?? "" }), \(attempts.map { $0.responseBody != nil }),
                \(batch.map(\.status)), \(batch.map { $0.nextAttemptAt ?? -1 }), \(batch.map { $0.finishedAt ?? -1 }),
                \(instanceId)) AS settled
            """)
        let settled = Set(try rows.map { try $0.value("settled", as: String.self) })
        return attempts.map { .success(settled.contains($0.eventId)) }
    }

    /// From memory while it holds (``NextDueMemo``): reading `heads` after every empty claim would
    /// cost a round trip every few claims under load.
    package func nextDueTime(after now: Timestamp) async throws -> Timestamp? {
        let after = now.millisecondsSince1970
        return try await nextDue.next(after: after) { [self] in
            try await rows("SELECT MIN(due_at) AS next_due FROM heads WHERE due_at > \(after)").first?.value("next_due", as: Int64?.self)
        }.map(Timestamp.init(millisecondsSince1970:))
    }

    package func event(projectId: String, id: String) async throws -> (LoggedEvent, [DeliveryAttempt])? {
        guard
            let row = try await rows(
                "SELECT \(unescaped: Self.eventSelectList) FROM events e WHERE project_id = \(projectId) AND id = \(id)"
            ).first
        else { return nil }
        let attempts = try await rows("SELECT \(columns: Self.attemptColumns) FROM attempts WHERE event_id = \(id) ORDER BY number")
            .map(Self.decodeAttempt)
        return (try Self.decodeLoggedEvent(row), attempts)
    }

    private static let attemptColumns = ["event_id", "number", "started_at", "duration_ms", "status_code", "error_class", "response_body"]

    private static func decodeAttempt(_ row: PostgresRandomAccessRow) throws -> DeliveryAttempt {
        DeliveryAttempt(
            eventId: try row.value("event_id"), number: try row.value("number"), startedAt: try row.timestamp("started_at"),
            durationMilliseconds: try row.value("duration_ms"), statusCode: try row.value("status_code"),
            errorClass: try row.value("error_class"), responseBody: try row.value("response_body"))
    }

    package func events(projectId: String, status: OutboxEvent.Status?, conversationId: String?, limit: Int, before cursor: Int64?)
        async throws -> [LoggedEvent]
    {
        // `pending` and `delivering` are both stored `pending`, without and with a lease owner (``eventStatus``).
        let stored = status.map { $0 == .delivering ? OutboxEvent.Status.pending.rawValue : $0.rawValue }
        let leased: Bool? =
            switch status {
            case .pending: false
            case .delivering: true
            default: nil
            }
        return try await rows(
            """
            SELECT \(unescaped: Self.eventSelectList) FROM events e
            WHERE project_id = \(projectId) AND seq < \(cursor ?? Int64.max)
              AND (\(stored)::text IS NULL OR (status = \(stored) AND (\(leased)::boolean IS NULL OR (lease_owner IS NOT NULL) = \(leased))))
              AND (\(conversationId)::text IS NULL OR conversation_id = \(conversationId))
            ORDER BY seq DESC LIMIT \(limit)
            """
        ).map(Self.decodeLoggedEvent)
    }

    /// Written with the redeliveries asked for meanwhile (``redeliveries``), in one transaction.
    package func redeliver(projectId: String, id: String, at time: Timestamp) async throws -> RedeliveryOutcome {
        let outcome = try await batched(Redelivery(projectId: projectId, id: id, at: time), in: redeliveries) { [self] batch in
            try await transaction { connection -> [RedeliveryOutcome] in
                let found = try Self.byNumber(
                    try await connection.rows(
                        """
                        SELECT q.n, e.ordering_key FROM unnest(\(batch.map(\.projectId)), \(batch.map(\.id))) WITH ORDINALITY AS q(project, id, n)
                        JOIN events e ON e.project_id = q.project AND e.id = q.id
                        """), count: batch.count)
                let keys = try found.compactMap { try $0?.value("ordering_key", as: String.self) }
                let ids = zip(batch, found).filter { $0.1 != nil }.map(\.0.id)
                try await Self.lockOrderingKeys(keys, connection)
                // Read again under the keys' locks: an event may have settled or been queued meanwhile.
                // Only settled events are locked: a settlement may be writing one being delivered.
                let settled = Set(
                    try await connection.rows(
                        "SELECT id FROM events WHERE id = ANY(\(ids)::text[]) AND status IN ('delivered', 'failed') ORDER BY seq FOR UPDATE"
                    ).map { try $0.value("id", as: String.self) })
                let unsettled = ids.filter { !settled.contains($0) }
                var statuses: [String: OutboxEvent.Status] = [:]
                if !unsettled.isEmpty {
                    for row in try await connection.rows(
                        "SELECT id, \(unescaped: Self.eventStatus) FROM events e WHERE id = ANY(\(unsettled)::text[])")
                    {
                        statuses[try row.value("id", as: String.self)] = try row.enumeration("status", as: OutboxEvent.Status.self)
                    }
                }
                let outcomes = zip(batch, found).map { request, row -> RedeliveryOutcome in
                    guard row != nil else { return .notFound }
                    if settled.contains(request.id) { return .queued }
                    return statuses[request.id].map { .notRedeliverable($0) } ?? .notFound
                }
                let queued = zip(batch, outcomes).filter { $0.1 == .queued }.map(\.0)
                guard !queued.isEmpty else { return outcomes }
                try await connection.run(
                    """
                    UPDATE events e SET status = 'pending', next_attempt_at = q.due, finished_at = NULL,
                        locked_until = NULL, lease_owner = NULL, retry_base = e.attempt_count
                    FROM unnest(\(queued.map(\.id)), \(queued.map(\.at.millisecondsSince1970))) AS q(id, due) WHERE e.id = q.id
                    """)
                try await Self.refreshHeads(keys, connection)
                return outcomes
            }
        }
        if outcome == .queued { announceDue() }
        return outcome
    }

    /// A redelivery asked for, for ``redeliveries``.
    struct Redelivery: Sendable {
        let projectId: String
        let id: String
        let at: Timestamp
    }

    package func redeliverFailed(projectId: String, since: Timestamp, at time: Timestamp) async throws -> Int {
        let count = try await transaction { connection -> Int in
            let sinceMillis = since.millisecondsSince1970
            let keys = try await connection.rows(
                "SELECT DISTINCT ordering_key FROM events WHERE project_id = \(projectId) AND status = 'failed' AND created_at >= \(sinceMillis)"
            ).map { try $0.value("ordering_key", as: String.self) }
            try await Self.lockOrderingKeys(keys, connection)
            let count = try await connection.run(
                """
                UPDATE events SET status = 'pending', next_attempt_at = \(time.millisecondsSince1970), finished_at = NULL,
                    locked_until = NULL, lease_owner = NULL, retry_base = attempt_count
                WHERE project_id = \(projectId) AND status = 'failed' AND created_at >= \(sinceMillis) RETURNING 1
                """)
            try await Self.refreshHeads(keys, connection)
            return count
        }
        if count > 0 { announceDue() }
        return count
    }

    package func pruneDelivered(settledBefore cutoff: Timestamp, limit: Int) async throws -> Int {
        try await transaction { connection in
            try await connection.run(
                """
                WITH old AS (
                    SELECT id FROM events WHERE status = 'delivered' AND finished_at < \(cutoff.millisecondsSince1970)
                    ORDER BY seq LIMIT \(limit) FOR UPDATE SKIP LOCKED
                ), attempts_removed AS (
                    DELETE FROM attempts a USING old WHERE a.event_id = old.id
                )
                DELETE FROM events e USING old WHERE e.id = old.id RETURNING 1
                """)
        }
    }

    package func queueStatistics() async throws -> (depth: Int, oldestPendingCreatedAt: Timestamp?) {
        let row = try await rows(
            """
            SELECT (SELECT COUNT(*) FROM events WHERE status IN ('pending', 'delivering', 'held')) AS depth,
                   (SELECT MIN(created_at) FROM events WHERE status = 'pending' AND lease_owner IS NULL) AS oldest_pending
            """)[0]
        return (try row.value("depth", as: Int.self), try row.optionalTimestamp("oldest_pending"))
    }

    package func deliverySummary(projectId: String, since: Timestamp) async throws -> DeliverySummary {
        let millis = since.millisecondsSince1970
        let row = try await rows(
            """
            SELECT (SELECT COUNT(*) FROM events WHERE project_id = \(projectId) AND status IN ('pending', 'delivering', 'held')) AS depth,
                (SELECT MIN(created_at) FROM events WHERE project_id = \(projectId) AND status = 'pending' AND lease_owner IS NULL) AS oldest,
                (SELECT COUNT(*) FROM events WHERE project_id = \(projectId) AND status = 'delivered' AND finished_at >= \(millis)) AS delivered,
                (SELECT COUNT(*) FROM events WHERE project_id = \(projectId) AND status = 'failed' AND finished_at >= \(millis)) AS failed,
                (SELECT COUNT(*) FROM events WHERE project_id = \(projectId) AND status = 'failed') AS failed_total,
                (SELECT MAX(finished_at) FROM events WHERE project_id = \(projectId) AND status = 'delivered') AS last_delivered
            """)[0]
        return DeliverySummary(
            queueDepth: try row.value("depth", as: Int.self), oldestPendingCreatedAt: try row.optionalTimestamp("oldest"),
            deliveredSince: try row.value("delivered", as: Int.self), failedSince: try row.value("failed", as: Int.self),
            failedTotal: try row.value("failed_total", as: Int.self), lastDeliveredAt: try row.optionalTimestamp("last_delivered"))
    }

    /// An event's columns, read from `events e`, its status as the API knows it (``eventStatus``).
    static let eventSelectList = "\(storedEventColumns.selectList(of: "e")), \(eventStatus)"

    /// An event's columns as stored, but its status.
    private static let storedEventColumns = [
        "id", "project_id", "destination", "bot_id", "ordering_key", "conversation_id", "event_type", "body", "attempt_count",
        "next_attempt_at", "created_at", "retry_base", "seq", "finished_at",
    ]

    /// An event's status, read from `events e`: a lease leaves it `pending` (migration 008), and a
    /// pending event with a lease owner is `delivering`.
    static let eventStatus = "CASE WHEN e.status = 'pending' AND e.lease_owner IS NOT NULL THEN 'delivering' ELSE e.status END AS status"

    static func decodeLoggedEvent(_ row: PostgresRandomAccessRow) throws -> LoggedEvent {
        let destination: OutboxEvent.Destination =
            switch try row.value("destination", as: String.self) {
            case "panel": .panel
            case "channel": .channel(botId: try row.value("bot_id"))
            case let other: throw StoreRowError(column: "destination", problem: "unknown value \(other)")
            }
        let event = OutboxEvent(
            id: try row.value("id"), projectId: try row.value("project_id"), destination: destination,
            orderingKey: try row.value("ordering_key"), conversationId: try row.value("conversation_id"),
            eventType: try row.value("event_type"), body: Array(try row.value("body", as: ByteBuffer.self).readableBytesView),
            status: try row.enumeration("status"), attemptCount: try row.value("attempt_count"), retryBase: try row.value("retry_base"),
            nextAttemptAt: try row.timestamp("next_attempt_at"), createdAt: try row.timestamp("created_at"))
        return LoggedEvent(event: event, sequence: try row.value("seq"), finishedAt: try row.optionalTimestamp("finished_at"))
    }
}
