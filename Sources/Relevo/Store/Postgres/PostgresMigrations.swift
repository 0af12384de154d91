import Logging
import PostgresNIO

/// The versioned schema of the PostgreSQL store, applied on start by every instance.
///
/// All pending migrations run in one transaction that first takes an advisory lock: when several
/// instances start at once, one migrates and the others wait, then find nothing left to do.
/// Migrations are append-only, like SQLite's. The schema is not SQLite's table for table: each is
/// shaped to its engine's costs (docs/architecture.md, "Where the schemas differ, and why"), and the
/// store contract suite, run on both, keeps the two stores answering alike.
enum PostgresMigrations {
    struct Migration {
        let id: String
        /// One statement each: the extended query protocol runs a single statement per query.
        let statements: [String]
    }

    /// Advisory lock key of the migration step ("RLVM").
    static let lockKey: Int64 = 0x524C_564D

    /// Applies the pending migrations; with `last`, only those up to it (a test's older database).
    static func apply(_ client: PostgresClient, logger: Logger, through last: String? = nil) async throws {
        let migrations = last.flatMap { last in all.firstIndex { $0.id == last }.map { all[...$0] } } ?? all[...]
        try await client.withTransaction(logger: PostgresStore.quiet) { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))")
            try await connection.run(
                "CREATE TABLE IF NOT EXISTS relevo_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            let applied = Set(try await connection.rows("SELECT id FROM relevo_migrations").map { try $0.value("id", as: String.self) })
            for migration in migrations where !applied.contains(migration.id) {
                logger.info("applying migration", metadata: ["migration": .string(migration.id)])
                for statement in migration.statements {
                    try await connection.run(PostgresQuery(unsafeSQL: statement))
                }
                try await connection.run("INSERT INTO relevo_migrations (id) VALUES (\(migration.id))")
            }
        }
    }

    static let all: [Migration] = [
        Migration(
            id: "001_schema",
            statements: [
                """
                CREATE TABLE projects (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    hash TEXT NOT NULL UNIQUE,
                    created_at BIGINT NOT NULL,
                    revoked_at BIGINT
                )
                """,
                "CREATE INDEX api_keys_by_project ON api_keys(project_id)",
                """
                CREATE TABLE integrations (
                    project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
                    id TEXT NOT NULL UNIQUE,
                    webhook_url TEXT NOT NULL,
                    auth_type TEXT NOT NULL,
                    authorization_sealed TEXT,
                    signing_secret_sealed TEXT NOT NULL,
                    previous_secret_sealed TEXT,
                    previous_secret_expires_at BIGINT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE bots (
                    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    channel_webhook_url TEXT,
                    channel_secret_sealed TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (project_id, id)
                )
                """,
                """
                CREATE TABLE end_users (
                    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    id TEXT NOT NULL,
                    names TEXT NOT NULL,
                    reference_id TEXT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (project_id, id)
                )
                """,
                """
                CREATE TABLE rooms (
                    project_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    bot_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (project_id, id),
                    UNIQUE (project_id, bot_id, user_id)
                )
                """,
                """
                CREATE TABLE conversations (
                    project_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    room_id TEXT NOT NULL,
                    bot_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    start_at BIGINT NOT NULL,
                    end_at BIGINT,
                    ended_reason TEXT,
                    assignment TEXT,
                    metadata TEXT,
                    PRIMARY KEY (project_id, id)
                )
                """,
                // At most one active conversation per room: the database enforces it, across instances.
                "CREATE UNIQUE INDEX conversations_one_active_per_room ON conversations(project_id, room_id) WHERE state = 'active'",
                """
                CREATE TABLE messages (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    project_id TEXT NOT NULL,
                    conversation_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    direction TEXT NOT NULL,
                    type TEXT NOT NULL,
                    content TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX messages_by_conversation ON messages(project_id, conversation_id, seq)",
                """
                CREATE TABLE idempotency (
                    project_id TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    response TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (project_id, scope, key)
                )
                """,
                // The outbox. `lease_owner` and `locked_until` are the claim: an instance that dies
                // mid-delivery leaves a lease that expires, and the event is due again for any instance.
                """
                CREATE TABLE events (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    project_id TEXT NOT NULL,
                    destination TEXT NOT NULL,
                    bot_id TEXT,
                    ordering_key TEXT NOT NULL,
                    conversation_id TEXT,
                    event_type TEXT NOT NULL,
                    body BYTEA NOT NULL,
                    status TEXT NOT NULL,
                    attempt_count INTEGER NOT NULL DEFAULT 0,
                    retry_base INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at BIGINT NOT NULL,
                    locked_until BIGINT,
                    lease_owner TEXT,
                    created_at BIGINT NOT NULL,
                    finished_at BIGINT
                )
                """,
                "CREATE INDEX events_due ON events(status, next_attempt_at, seq)",
                "CREATE INDEX events_settled ON events(status, finished_at)",
                "CREATE INDEX events_unsettled ON events(ordering_key, seq) WHERE status IN ('pending', 'delivering', 'held')",
                "CREATE INDEX events_leased ON events(locked_until) WHERE status = 'delivering'",
                "CREATE INDEX events_by_project ON events(project_id, seq)",
                "CREATE INDEX events_by_project_status ON events(project_id, status, seq)",
                "CREATE INDEX events_by_conversation ON events(project_id, conversation_id, seq)",
                // The head of each ordering key (its oldest unsettled event), kept in the same transactions as
                // the events: a claim reads heads only. (SQLite keeps its heads in memory instead.)
                """
                CREATE TABLE heads (
                    ordering_key TEXT PRIMARY KEY,
                    seq BIGINT NOT NULL
                )
                """,
                "CREATE INDEX heads_by_seq ON heads(seq)",
                """
                CREATE TABLE attempts (
                    event_id TEXT NOT NULL,
                    number INTEGER NOT NULL,
                    started_at BIGINT NOT NULL,
                    duration_ms BIGINT NOT NULL,
                    status_code INTEGER,
                    error_class TEXT,
                    response_body TEXT,
                    PRIMARY KEY (event_id, number)
                )
                """,
            ]),
        // The hot writes as functions of the schema: each is one round trip instead of eight statements,
        // each its own, with a transaction around them, since under load every round trip waits for a
        // busy client and a pooled connection. Their steps and their order are those of the statements
        // they replace.
        Migration(
            id: "002_single_round_trip_writes",
            statements: [
                // Events in array order, each the head of its key unless the key has one (announced by the
                // caller after the commit: a NOTIFY here would serialize the commits, see DueAnnouncer).
                // Text arrays cannot hold NULL from the client: '' stands for no bot and no conversation.
                // The caller holds the keys' locks.
                """
                CREATE FUNCTION relevo_insert_events(
                    p_ids TEXT[], p_project TEXT, p_destinations TEXT[], p_bots TEXT[], p_keys TEXT[], p_conversations TEXT[],
                    p_types TEXT[], p_bodies BYTEA[], p_statuses TEXT[], p_attempts BIGINT[], p_due BIGINT[], p_created BIGINT[]
                ) RETURNS void LANGUAGE plpgsql AS $$
                BEGIN
                    IF cardinality(p_ids) = 0 THEN RETURN; END IF;
                    WITH inserted AS (
                        INSERT INTO events (id, project_id, destination, bot_id, ordering_key, conversation_id, event_type, body,
                            status, attempt_count, next_attempt_at, created_at)
                        SELECT e.id, p_project, e.destination, NULLIF(e.bot, ''), e.key, NULLIF(e.conversation, ''), e.type, e.body,
                            e.status, e.attempts, e.due, e.created
                        FROM unnest(p_ids, p_destinations, p_bots, p_keys, p_conversations, p_types, p_bodies, p_statuses, p_attempts, p_due,
                            p_created)
                            WITH ORDINALITY AS e(id, destination, bot, key, conversation, type, body, status, attempts, due, created, n)
                        ORDER BY e.n
                        RETURNING ordering_key, seq
                    )
                    INSERT INTO heads (ordering_key, seq) SELECT ordering_key, MIN(seq) FROM inserted GROUP BY ordering_key
                    ON CONFLICT DO NOTHING;
                END
                $$
                """,
                // A client-keyed write (a channel or panel message): the key row first, so that a concurrent
                // request with the same key (on any instance) waits for this one, then finds the key taken.
                // outcome: 'recorded', 'duplicate' (previous: the first answer) or 'not_active' (nothing written).
                """
                CREATE FUNCTION relevo_record_once(
                    p_project TEXT, p_scope TEXT, p_key TEXT, p_response TEXT, p_at BIGINT, p_active_conversation TEXT,
                    p_message_conversation TEXT, p_message_id TEXT, p_message_direction TEXT, p_message_type TEXT,
                    p_message_content TEXT, p_message_created BIGINT,
                    p_ids TEXT[], p_destinations TEXT[], p_bots TEXT[], p_keys TEXT[], p_conversations TEXT[],
                    p_types TEXT[], p_bodies BYTEA[], p_statuses TEXT[], p_attempts BIGINT[], p_due BIGINT[], p_created BIGINT[],
                    OUT outcome TEXT, OUT previous TEXT
                ) LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(\(PostgresStore.orderingLockSpace), h)
                    FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(p_keys) AS k ORDER BY h) AS locks;
                    INSERT INTO idempotency (project_id, scope, key, response, created_at)
                    VALUES (p_project, p_scope, p_key, p_response, p_at) ON CONFLICT DO NOTHING;
                    IF NOT FOUND THEN
                        SELECT i.response INTO previous FROM idempotency i
                        WHERE i.project_id = p_project AND i.scope = p_scope AND i.key = p_key;
                        outcome := 'duplicate';
                        previous := COALESCE(previous, p_response);
                        RETURN;
                    END IF;
                    IF p_active_conversation IS NOT NULL THEN
                        -- FOR SHARE holds off a concurrent close until this message is in.
                        PERFORM 1 FROM conversations c
                        WHERE c.project_id = p_project AND c.id = p_active_conversation AND c.state = 'active' FOR SHARE;
                        IF NOT FOUND THEN
                            -- Nothing written: the key row goes with the rest.
                            DELETE FROM idempotency i
                            WHERE i.project_id = p_project AND i.scope = p_scope AND i.key = p_key;
                            outcome := 'not_active';
                            RETURN;
                        END IF;
                    END IF;
                    IF p_message_id IS NOT NULL THEN
                        INSERT INTO messages (project_id, conversation_id, id, direction, type, content, created_at)
                        VALUES (p_project, p_message_conversation, p_message_id, p_message_direction, p_message_type,
                            p_message_content, p_message_created);
                    END IF;
                    PERFORM relevo_insert_events(p_ids, p_project, p_destinations, p_bots, p_keys, p_conversations, p_types,
                        p_bodies, p_statuses, p_attempts, p_due, p_created);
                    outcome := 'recorded';
                END
                $$
                """,
                // One attempt and its settlement. Only the lease holder settles: an event cancelled meanwhile,
                // or taken over after this instance's lease ended, keeps the state its new owner gives it (its
                // attempt_count too: the claim counted this attempt). A settled event's key gets its next head.
                """
                CREATE FUNCTION relevo_finish_attempt(
                    p_event TEXT, p_number BIGINT, p_started BIGINT, p_duration BIGINT, p_status_code BIGINT, p_error_class TEXT,
                    p_response_body TEXT, p_status TEXT, p_next_attempt BIGINT, p_finished BIGINT, p_owner TEXT
                ) RETURNS boolean LANGUAGE plpgsql AS $$
                DECLARE
                    v_key TEXT;
                    v_head BIGINT;
                BEGIN
                    SELECT e.ordering_key INTO v_key FROM events e WHERE e.id = p_event;
                    IF p_finished IS NOT NULL AND v_key IS NOT NULL THEN
                        PERFORM pg_advisory_xact_lock(\(PostgresStore.orderingLockSpace), hashtext(v_key));
                    END IF;
                    INSERT INTO attempts AS a (event_id, number, started_at, duration_ms, status_code, error_class, response_body)
                    VALUES (p_event, p_number, p_started, p_duration, p_status_code, p_error_class, p_response_body)
                    ON CONFLICT (event_id, number) DO UPDATE SET started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                        status_code = excluded.status_code, error_class = excluded.error_class, response_body = excluded.response_body;
                    UPDATE events e SET status = p_status, attempt_count = GREATEST(e.attempt_count, p_number),
                        next_attempt_at = COALESCE(p_next_attempt, e.next_attempt_at), locked_until = NULL, lease_owner = NULL,
                        finished_at = p_finished
                    WHERE e.id = p_event AND e.status = 'delivering' AND e.lease_owner = p_owner;
                    IF NOT FOUND THEN RETURN false; END IF;
                    IF p_finished IS NOT NULL AND v_key IS NOT NULL THEN
                        SELECT MIN(e.seq) INTO v_head FROM events e
                        WHERE e.ordering_key = v_key AND e.status IN ('pending', 'delivering', 'held');
                        IF v_head IS NULL THEN
                            DELETE FROM heads h WHERE h.ordering_key = v_key;
                        ELSE
                            INSERT INTO heads AS h (ordering_key, seq) VALUES (v_key, v_head)
                            ON CONFLICT (ordering_key) DO UPDATE SET seq = excluded.seq;
                        END IF;
                    END IF;
                    RETURN true;
                END
                $$
                """,
            ]),
        // The conversation list pages newest first by `seq` (existing conversations are numbered in
        // the order the table holds them), for the whole project or by state, bot or user.
        Migration(
            id: "003_conversation_lists",
            statements: [
                "ALTER TABLE conversations ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY",
                "CREATE INDEX conversations_by_project ON conversations(project_id, seq)",
                "CREATE INDEX conversations_by_state ON conversations(project_id, state, seq)",
                "CREATE INDEX conversations_by_bot ON conversations(project_id, bot_id, seq)",
                "CREATE INDEX conversations_by_user ON conversations(project_id, user_id, seq)",
            ]),
        // Settlements in batches (StatementBatcher): the steps of relevo_finish_attempt for many attempts
        // in one statement. The keys of the events that finish are locked first, in one order, as every
        // writer of heads does; the heads are refreshed after the update, which they must see.
        // Arrays carry no NULL from the client: -1 is no status code, no next attempt, no finish; '' no
        // error class; p_has_body says whether a response body came. Returns the ids it settled.
        Migration(
            id: "004_batched_settlements",
            statements: [
                """
                CREATE FUNCTION relevo_finish_attempts(
                    p_events TEXT[], p_numbers BIGINT[], p_started BIGINT[], p_durations BIGINT[], p_status_codes BIGINT[],
                    p_error_classes TEXT[], p_bodies TEXT[], p_has_body BOOLEAN[], p_statuses TEXT[], p_next BIGINT[],
                    p_finished BIGINT[], p_owner TEXT
                ) RETURNS SETOF TEXT LANGUAGE plpgsql AS $$
                DECLARE
                    v_settled TEXT[];
                    v_keys TEXT[];
                BEGIN
                    PERFORM pg_advisory_xact_lock(\(PostgresStore.orderingLockSpace), h)
                    FROM (
                        SELECT DISTINCT hashtext(e.ordering_key) AS h
                        FROM unnest(p_events, p_finished) AS u(id, finished) JOIN events e ON e.id = u.id
                        WHERE u.finished >= 0 ORDER BY h
                    ) AS locks;
                    INSERT INTO attempts AS a (event_id, number, started_at, duration_ms, status_code, error_class, response_body)
                    SELECT u.id, u.number, u.started, u.duration, NULLIF(u.code, -1), NULLIF(u.class, ''),
                        CASE WHEN u.has_body THEN u.body END
                    FROM unnest(p_events, p_numbers, p_started, p_durations, p_status_codes, p_error_classes, p_bodies, p_has_body)
                        AS u(id, number, started, duration, code, class, body, has_body)
                    ON CONFLICT (event_id, number) DO UPDATE SET started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                        status_code = excluded.status_code, error_class = excluded.error_class, response_body = excluded.response_body;
                    WITH settled AS (
                        UPDATE events e SET status = u.status, attempt_count = GREATEST(e.attempt_count, u.number),
                            next_attempt_at = COALESCE(NULLIF(u.next, -1), e.next_attempt_at), locked_until = NULL, lease_owner = NULL,
                            finished_at = NULLIF(u.finished, -1)
                        FROM unnest(p_events, p_numbers, p_statuses, p_next, p_finished) AS u(id, number, status, next, finished)
                        WHERE e.id = u.id AND e.status = 'delivering' AND e.lease_owner = p_owner
                        RETURNING e.id, e.ordering_key, e.finished_at
                    )
                    SELECT array_agg(id), array_agg(DISTINCT ordering_key) FILTER (WHERE finished_at IS NOT NULL)
                    INTO v_settled, v_keys FROM settled;
                    IF v_keys IS NOT NULL THEN
                        WITH next AS (
                            SELECT k AS ordering_key, (SELECT MIN(e.seq) FROM events e
                                WHERE e.ordering_key = k AND e.status IN ('pending', 'delivering', 'held')) AS seq
                            FROM unnest(v_keys) AS k
                        ), removed AS (
                            DELETE FROM heads h USING next WHERE h.ordering_key = next.ordering_key AND next.seq IS NULL
                        )
                        INSERT INTO heads AS h (ordering_key, seq) SELECT ordering_key, seq FROM next WHERE seq IS NOT NULL
                        ON CONFLICT (ordering_key) DO UPDATE SET seq = excluded.seq;
                    END IF;
                    RETURN QUERY SELECT unnest(COALESCE(v_settled, '{}'));
                END
                $$
                """
            ]),
        // A bot's web chat, and which rooms came through one (their replies are read by the widget).
        Migration(
            id: "005_web_chat",
            statements: [
                "ALTER TABLE rooms ADD COLUMN channel TEXT",
                """
                CREATE TABLE web_chats (
                    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                    bot_id TEXT NOT NULL,
                    allowed_origins TEXT NOT NULL,
                    start_mode TEXT NOT NULL,
                    greeting TEXT,
                    identity_secret_sealed TEXT,
                    agent_timeout_seconds BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (project_id, bot_id)
                )
                """,
            ]),
        // Client-keyed writes in batches (StatementBatcher): the steps of relevo_record_once for many writes
        // in one statement and one commit. Every lock a batch takes is taken in one order, all of one
        // kind before the next: the ordering keys' (sorted hashes, as every writer of heads), then the
        // key rows (sorted; a batch holds each key once), then the conversations that must still be
        // active (sorted, shared). Two batches, of one instance or of two, thus never wait on each other
        // in a cycle. Writes are numbered from 1 in array order; their messages and events are written
        // in that order. Arrays carry no NULL from the client: '' is no active conversation and no
        // message. Returns each write's number, outcome and, for a duplicate, the first answer.
        Migration(
            id: "006_batched_records",
            statements: [
                """
                CREATE FUNCTION relevo_record_batch(
                    p_projects TEXT[], p_scopes TEXT[], p_keys TEXT[], p_responses TEXT[], p_at BIGINT[], p_active TEXT[],
                    p_message_conversations TEXT[], p_message_ids TEXT[], p_message_directions TEXT[], p_message_types TEXT[],
                    p_message_contents TEXT[], p_message_created BIGINT[],
                    p_event_writes BIGINT[], p_ids TEXT[], p_destinations TEXT[], p_bots TEXT[], p_event_keys TEXT[],
                    p_conversations TEXT[], p_types TEXT[], p_bodies BYTEA[], p_statuses TEXT[], p_attempts BIGINT[],
                    p_due BIGINT[], p_created BIGINT[]
                ) RETURNS TABLE (write_number BIGINT, outcome TEXT, previous TEXT) LANGUAGE plpgsql AS $$
                #variable_conflict use_column
                DECLARE
                    v_taken BIGINT[];
                    v_open BIGINT[];
                    v_recorded BIGINT[];
                BEGIN
                    PERFORM pg_advisory_xact_lock(\(PostgresStore.orderingLockSpace), h)
                    FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(p_event_keys) AS k ORDER BY h) AS locks;
                    WITH taken AS (
                        INSERT INTO idempotency (project_id, scope, key, response, created_at)
                        SELECT w.project, w.scope, w.key, w.response, w.at
                        FROM unnest(p_projects, p_scopes, p_keys, p_responses, p_at) AS w(project, scope, key, response, at)
                        ORDER BY w.project, w.scope, w.key
                        ON CONFLICT DO NOTHING
                        RETURNING project_id, scope, key
                    )
                    SELECT COALESCE(array_agg(w.n), '{}') INTO v_taken
                    FROM taken t JOIN unnest(p_projects, p_scopes, p_keys) WITH ORDINALITY AS w(project, scope, key, n)
                        ON t.project_id = w.project AND t.scope = w.scope AND t.key = w.key;
                    -- FOR SHARE holds off a concurrent close until these messages are in.
                    SELECT COALESCE(array_agg(o.n), '{}') INTO v_open FROM (
                        SELECT w.n FROM unnest(p_projects, p_active) WITH ORDINALITY AS w(project, active, n)
                        JOIN conversations c ON c.project_id = w.project AND c.id = w.active AND c.state = 'active'
                        WHERE w.active <> '' AND w.n = ANY(v_taken)
                        ORDER BY c.project_id, c.id FOR SHARE OF c
                    ) AS o;
                    SELECT COALESCE(array_agg(w.n), '{}') INTO v_recorded
                    FROM unnest(p_active) WITH ORDINALITY AS w(active, n)
                    WHERE w.n = ANY(v_taken) AND (w.active = '' OR w.n = ANY(v_open));
                    -- A write whose conversation closed writes nothing: its key row goes.
                    DELETE FROM idempotency i
                    USING unnest(p_projects, p_scopes, p_keys) WITH ORDINALITY AS w(project, scope, key, n)
                    WHERE w.n = ANY(v_taken) AND w.n <> ALL(v_recorded)
                      AND i.project_id = w.project AND i.scope = w.scope AND i.key = w.key;
                    INSERT INTO messages (project_id, conversation_id, id, direction, type, content, created_at)
                    SELECT w.project, w.conversation, w.id, w.direction, w.type, w.content, w.created
                    FROM unnest(p_projects, p_message_conversations, p_message_ids, p_message_directions, p_message_types,
                        p_message_contents, p_message_created)
                        WITH ORDINALITY AS w(project, conversation, id, direction, type, content, created, n)
                    WHERE w.id <> '' AND w.n = ANY(v_recorded)
                    ORDER BY w.n;
                    WITH inserted AS (
                        INSERT INTO events (id, project_id, destination, bot_id, ordering_key, conversation_id, event_type, body,
                            status, attempt_count, next_attempt_at, created_at)
                        SELECT e.id, p_projects[e.of_write], e.destination, NULLIF(e.bot, ''), e.key, NULLIF(e.conversation, ''), e.type,
                            e.body, e.status, e.attempts, e.due, e.created
                        FROM unnest(p_event_writes, p_ids, p_destinations, p_bots, p_event_keys, p_conversations, p_types, p_bodies,
                            p_statuses, p_attempts, p_due, p_created)
                            WITH ORDINALITY AS e(of_write, id, destination, bot, key, conversation, type, body, status, attempts, due,
                                created, n)
                        WHERE e.of_write = ANY(v_recorded)
                        ORDER BY e.n
                        RETURNING ordering_key, seq
                    )
                    INSERT INTO heads (ordering_key, seq) SELECT ordering_key, MIN(seq) FROM inserted GROUP BY ordering_key
                    ON CONFLICT DO NOTHING;
                    RETURN QUERY
                    SELECT w.n,
                        CASE WHEN w.n = ANY(v_recorded) THEN 'recorded' WHEN w.n = ANY(v_taken) THEN 'not_active'
                            ELSE 'duplicate' END,
                        CASE WHEN w.n <> ALL(v_taken) THEN COALESCE((SELECT i.response FROM idempotency i
                            WHERE i.project_id = w.project AND i.scope = w.scope AND i.key = w.key), w.response) END
                    FROM unnest(p_projects, p_scopes, p_keys, p_responses) WITH ORDINALITY AS w(project, scope, key, response, n);
                END
                $$
                """
            ]),
        // Heads that say when they are due, so that a claim reads the small `heads` table alone instead
        // of joining it to `events` (whose plan, cached while the tables were small, could scan every
        // event). `due_at` is the head's next attempt while pending, its lease's end while delivering,
        // NULL while held; `destination_key` is ``OutboxEvent/destinationKey``. Every writer of an
        // event's state writes its head's too, under the key's lock, through the functions below; a
        // claim sets `due_at` to its lease's end with the lease.
        Migration(
            id: "007_claimable_heads",
            statements: [
                "ALTER TABLE heads ADD COLUMN due_at BIGINT, ADD COLUMN destination_key TEXT",
                """
                CREATE FUNCTION relevo_due_at(p_status TEXT, p_next_attempt_at BIGINT, p_locked_until BIGINT) RETURNS BIGINT
                LANGUAGE sql IMMUTABLE AS $$
                    SELECT CASE p_status WHEN 'pending' THEN p_next_attempt_at WHEN 'delivering' THEN p_locked_until END
                $$
                """,
                """
                CREATE FUNCTION relevo_destination_key(p_project TEXT, p_destination TEXT, p_bot TEXT) RETURNS TEXT
                LANGUAGE sql IMMUTABLE AS $$
                    SELECT p_project || ':' || p_destination || COALESCE(':' || p_bot, '')
                $$
                """,
                // Points the heads of `p_keys` at their oldest unsettled event, with its due time, or
                // removes them when none is left. The caller holds the keys' locks.
                """
                CREATE FUNCTION relevo_refresh_heads(p_keys TEXT[]) RETURNS void LANGUAGE sql AS $$
                    WITH next AS (
                        SELECT k AS ordering_key, e.seq, relevo_due_at(e.status, e.next_attempt_at, e.locked_until) AS due_at,
                            relevo_destination_key(e.project_id, e.destination, e.bot_id) AS destination_key
                        FROM (SELECT DISTINCT k FROM unnest(p_keys) AS k) AS keys
                        LEFT JOIN LATERAL (
                            SELECT * FROM events e WHERE e.ordering_key = k AND e.status IN ('pending', 'delivering', 'held')
                            ORDER BY e.seq LIMIT 1
                        ) AS e ON true
                    ), removed AS (
                        DELETE FROM heads h USING next WHERE h.ordering_key = next.ordering_key AND next.seq IS NULL
                    )
                    INSERT INTO heads AS h (ordering_key, seq, due_at, destination_key)
                    SELECT ordering_key, seq, due_at, destination_key FROM next WHERE seq IS NOT NULL
                    ON CONFLICT (ordering_key) DO UPDATE
                    SET seq = excluded.seq, due_at = excluded.due_at, destination_key = excluded.destination_key
                $$
                """,
                "SELECT relevo_refresh_heads(ARRAY(SELECT ordering_key FROM heads))",
                "ALTER TABLE heads ALTER COLUMN destination_key SET NOT NULL",
                // Unused since settlements are batched (004), and since claims read heads.
                "DROP FUNCTION relevo_finish_attempt",
                "DROP INDEX events_due",
                "DROP INDEX events_leased",
                """
                CREATE OR REPLACE FUNCTION relevo_insert_events(
                    p_ids TEXT[], p_project TEXT, p_destinations TEXT[], p_bots TEXT[], p_keys TEXT[], p_conversations TEXT[],
                    p_types TEXT[], p_bodies BYTEA[], p_statuses TEXT[], p_attempts BIGINT[], p_due BIGINT[], p_created BIGINT[]
                ) RETURNS void LANGUAGE plpgsql AS $$
                BEGIN
                    IF cardinality(p_ids) = 0 THEN RETURN; END IF;
                    WITH inserted AS (
                        INSERT INTO events (id, project_id, destination, bot_id, ordering_key, conversation_id, event_type, body,
                            status, attempt_count, next_attempt_at, created_at)
                        SELECT e.id, p_project, e.destination, NULLIF(e.bot, ''), e.key, NULLIF(e.conversation, ''), e.type, e.body,
                            e.status, e.attempts, e.due, e.created
                        FROM unnest(p_ids, p_destinations, p_bots, p_keys, p_conversations, p_types, p_bodies, p_statuses, p_attempts, p_due,
                            p_created)
                            WITH ORDINALITY AS e(id, destination, bot, key, conversation, type, body, status, attempts, due, created, n)
                        ORDER BY e.n
                        RETURNING ordering_key, seq, status, next_attempt_at, destination, bot_id
                    )
                    INSERT INTO heads (ordering_key, seq, due_at, destination_key)
                    SELECT DISTINCT ON (ordering_key) ordering_key, seq, relevo_due_at(status, next_attempt_at, NULL),
                        relevo_destination_key(p_project, destination, bot_id)
                    FROM inserted ORDER BY ordering_key, seq
                    ON CONFLICT DO NOTHING;
                END
                $$
                """,
                // Every settled event's key is locked and its head refreshed: a retry stays the head
                // with a new due time, a finished event hands it on.
                """
                CREATE OR REPLACE FUNCTION relevo_finish_attempts(
                    p_events TEXT[], p_numbers BIGINT[], p_started BIGINT[], p_durations BIGINT[], p_status_codes BIGINT[],
                    p_error_classes TEXT[], p_bodies TEXT[], p_has_body BOOLEAN[], p_statuses TEXT[], p_next BIGINT[],
                    p_finished BIGINT[], p_owner TEXT
                ) RETURNS SETOF TEXT LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
                DECLARE
                    v_settled TEXT[];
                    v_keys TEXT[];
                BEGIN
                    PERFORM pg_advisory_xact_lock(\(PostgresStore.orderingLockSpace), h)
                    FROM (
                        SELECT DISTINCT hashtext(e.ordering_key) AS h FROM unnest(p_events) AS u(id) JOIN events e ON e.id = u.id ORDER BY h
                    ) AS locks;
                    INSERT INTO attempts AS a (event_id, number, started_at, duration_ms, status_code, error_class, response_body)
                    SELECT u.id, u.number, u.started, u.duration, NULLIF(u.code, -1), NULLIF(u.class, ''),
                        CASE WHEN u.has_body THEN u.body END
                    FROM unnest(p_events, p_numbers, p_started, p_durations, p_status_codes, p_error_classes, p_bodies, p_has_body)
                        AS u(id, number, started, duration, code, class, body, has_body)
                    ON CONFLICT (event_id, number) DO UPDATE SET started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                        status_code = excluded.status_code, error_class = excluded.error_class, response_body = excluded.response_body;
                    WITH settled AS (
                        UPDATE events e SET status = u.status, attempt_count = GREATEST(e.attempt_count, u.number),
                            next_attempt_at = COALESCE(NULLIF(u.next, -1), e.next_attempt_at), locked_until = NULL, lease_owner = NULL,
                            finished_at = NULLIF(u.finished, -1)
                        FROM unnest(p_events, p_numbers, p_statuses, p_next, p_finished) AS u(id, number, status, next, finished)
                        WHERE e.id = u.id AND e.status = 'delivering' AND e.lease_owner = p_owner
                        RETURNING e.id, e.ordering_key
                    )
                    SELECT array_agg(id), array_agg(ordering_key) INTO v_settled, v_keys FROM settled;
                    IF v_keys IS NOT NULL THEN
                        PERFORM relevo_refresh_heads(v_keys);
                    END IF;
                    RETURN QUERY SELECT unnest(COALESCE(v_settled, '{}'));
                END
                $$
                """,
                """
                CREATE OR REPLACE FUNCTION relevo_record_batch(
                    p_projects TEXT[], p_scopes TEXT[], p_keys TEXT[], p_responses TEXT[], p_at BIGINT[], p_active TEXT[],
                    p_message_conversations TEXT[], p_message_ids TEXT[], p_message_directions TEXT[], p_message_types TEXT[],
                    p_message_contents TEXT[], p_message_created BIGINT[],
                    p_event_writes BIGINT[], p_ids TEXT[], p_destinations TEXT[], p_bots TEXT[], p_event_keys TEXT[],
                    p_conversations TEXT[], p_types TEXT[], p_bodies BYTEA[], p_statuses TEXT[], p_attempts BIGINT[],
                    p_due BIGINT[], p_created BIGINT[]
                ) RETURNS TABLE (write_number BIGINT, outcome TEXT, previous TEXT) LANGUAGE plpgsql AS $$
                #variable_conflict use_column
                DECLARE
                    v_taken BIGINT[];
                    v_open BIGINT[];
                    v_recorded BIGINT[];
                BEGIN
                    PERFORM pg_advisory_xact_lock(\(PostgresStore.orderingLockSpace), h)
                    FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(p_event_keys) AS k ORDER BY h) AS locks;
                    WITH taken AS (
                        INSERT INTO idempotency (project_id, scope, key, response, created_at)
                        SELECT w.project, w.scope, w.key, w.response, w.at
                        FROM unnest(p_projects, p_scopes, p_keys, p_responses, p_at) AS w(project, scope, key, response, at)
                        ORDER BY w.project, w.scope, w.key
                        ON CONFLICT DO NOTHING
                        RETURNING project_id, scope, key
                    )
                    SELECT COALESCE(array_agg(w.n), '{}') INTO v_taken
                    FROM taken t JOIN unnest(p_projects, p_scopes, p_keys) WITH ORDINALITY AS w(project, scope, key, n)
                        ON t.project_id = w.project AND t.scope = w.scope AND t.key = w.key;
                    -- FOR SHARE holds off a concurrent close until these messages are in.
                    SELECT COALESCE(array_agg(o.n), '{}') INTO v_open FROM (
                        SELECT w.n FROM unnest(p_projects, p_active) WITH ORDINALITY AS w(project, active, n)
                        JOIN conversations c ON c.project_id = w.project AND c.id = w.active AND c.state = 'active'
                        WHERE w.active <> '' AND w.n = ANY(v_taken)
                        ORDER BY c.project_id, c.id FOR SHARE OF c
                    ) AS o;
                    SELECT COALESCE(array_agg(w.n), '{}') INTO v_recorded
                    FROM unnest(p_active) WITH ORDINALITY AS w(active, n)
                    WHERE w.n = ANY(v_taken) AND (w.active = '' OR w.n = ANY(v_open));
                    -- A write whose conversation closed writes nothing: its key row goes.
                    DELETE FROM idempotency i
                    USING unnest(p_projects, p_scopes, p_keys) WITH ORDINALITY AS w(project, scope, key, n)
                    WHERE w.n = ANY(v_taken) AND w.n <> ALL(v_recorded)
                      AND i.project_id = w.project AND i.scope = w.scope AND i.key = w.key;
                    INSERT INTO messages (project_id, conversation_id, id, direction, type, content, created_at)
                    SELECT w.project, w.conversation, w.id, w.direction, w.type, w.content, w.created
                    FROM unnest(p_projects, p_message_conversations, p_message_ids, p_message_directions, p_message_types,
                        p_message_contents, p_message_created)
                        WITH ORDINALITY AS w(project, conversation, id, direction, type, content, created, n)
                    WHERE w.id <> '' AND w.n = ANY(v_recorded)
                    ORDER BY w.n;
                    WITH inserted AS (
                        INSERT INTO events (id, project_id, destination, bot_id, ordering_key, conversation_id, event_type, body,
                            status, attempt_count, next_attempt_at, created_at)
                        SELECT e.id, p_projects[e.of_write], e.destination, NULLIF(e.bot, ''), e.key, NULLIF(e.conversation, ''), e.type,
                            e.body, e.status, e.attempts, e.due, e.created
                        FROM unnest(p_event_writes, p_ids, p_destinations, p_bots, p_event_keys, p_conversations, p_types, p_bodies,
                            p_statuses, p_attempts, p_due, p_created)
                            WITH ORDINALITY AS e(of_write, id, destination, bot, key, conversation, type, body, status, attempts, due,
                                created, n)
                        WHERE e.of_write = ANY(v_recorded)
                        ORDER BY e.n
                        RETURNING ordering_key, seq, status, next_attempt_at, project_id, destination, bot_id
                    )
                    INSERT INTO heads (ordering_key, seq, due_at, destination_key)
                    SELECT DISTINCT ON (ordering_key) ordering_key, seq, relevo_due_at(status, next_attempt_at, NULL),
                        relevo_destination_key(project_id, destination, bot_id)
                    FROM inserted ORDER BY ordering_key, seq
                    ON CONFLICT DO NOTHING;
                    RETURN QUERY
                    SELECT w.n,
                        CASE WHEN w.n = ANY(v_recorded) THEN 'recorded' WHEN w.n = ANY(v_taken) THEN 'not_active'
                            ELSE 'duplicate' END,
                        CASE WHEN w.n <> ALL(v_taken) THEN COALESCE((SELECT i.response FROM idempotency i
                            WHERE i.project_id = w.project AND i.scope = w.scope AND i.key = w.key), w.response) END
                    FROM unnest(p_projects, p_scopes, p_keys, p_responses) WITH ORDINALITY AS w(project, scope, key, response, n);
                END
                $$
                """,
            ]),
        // A lease leaves `status` as it is (`pending`) and writes only columns no index holds, so that
        // PostgreSQL can write it in place (a heap-only update, in the room the fill factor leaves on
        // each page) instead of adding an entry to each of the table's indexes. An event reads as
        // `delivering` while it is pending with a lease owner. Settled events alone are indexed by
        // their finish, which is all retention and the summary look up by it.
        Migration(
            id: "008_leases_in_place",
            statements: [
                "UPDATE events SET status = 'pending' WHERE status = 'delivering'",
                "ALTER TABLE events SET (fillfactor = 50)",
                """
                CREATE OR REPLACE FUNCTION relevo_due_at(p_status TEXT, p_next_attempt_at BIGINT, p_locked_until BIGINT) RETURNS BIGINT
                LANGUAGE sql IMMUTABLE AS $$
                    SELECT CASE WHEN p_status = 'pending' THEN COALESCE(p_locked_until, p_next_attempt_at) END
                $$
                """,
                "CREATE INDEX events_finished ON events(status, finished_at) WHERE finished_at IS NOT NULL",
                "DROP INDEX events_settled",
                // As in 007, in PL/pgSQL so that its plan is kept while the connection lasts (a SQL function's is
                // made again at every call, the larger part of its cost). Its plan, made the first
                // times on a small table, must stay right as `events` grows: it may not scan the
                // table, and the order asked for is the unsettled index's own.
                """
                CREATE OR REPLACE FUNCTION relevo_refresh_heads(p_keys TEXT[]) RETURNS void LANGUAGE plpgsql
                SET enable_seqscan = off AS $$
                BEGIN
                    WITH next AS (
                        SELECT k AS ordering_key, e.seq, relevo_due_at(e.status, e.next_attempt_at, e.locked_until) AS due_at,
                            relevo_destination_key(e.project_id, e.destination, e.bot_id) AS destination_key
                        FROM (SELECT DISTINCT k FROM unnest(p_keys) AS k) AS keys
                        LEFT JOIN LATERAL (
                            SELECT e.seq, e.status, e.next_attempt_at, e.locked_until, e.project_id, e.destination, e.bot_id
                            FROM events e WHERE e.ordering_key = k AND e.status IN ('pending', 'delivering', 'held')
                            ORDER BY e.ordering_key, e.seq LIMIT 1
                        ) AS e ON true
                    ), removed AS (
                        DELETE FROM heads h USING next WHERE h.ordering_key = next.ordering_key AND next.seq IS NULL
                    )
                    INSERT INTO heads AS h (ordering_key, seq, due_at, destination_key)
                    SELECT ordering_key, seq, due_at, destination_key FROM next WHERE seq IS NOT NULL
                    ON CONFLICT (ordering_key) DO UPDATE
                    SET seq = excluded.seq, due_at = excluded.due_at, destination_key = excluded.destination_key;
                END
                $$
                """,
                // As in 007, but the event under a lease is `pending` with this instance as its owner, and
                // the plans are kept while the connection lasts rather than made at each call, kept from scanning
                // `events` (a plan made while the table was small would).
                """
                CREATE OR REPLACE FUNCTION relevo_finish_attempts(
                    p_events TEXT[], p_numbers BIGINT[], p_started BIGINT[], p_durations BIGINT[], p_status_codes BIGINT[],
                    p_error_classes TEXT[], p_bodies TEXT[], p_has_body BOOLEAN[], p_statuses TEXT[], p_next BIGINT[],
                    p_finished BIGINT[], p_owner TEXT
                ) RETURNS SETOF TEXT LANGUAGE plpgsql SET enable_seqscan = off AS $$
                DECLARE
                    v_settled TEXT[];
                    v_keys TEXT[];
                BEGIN
                    PERFORM pg_advisory_xact_lock(\(PostgresStore.orderingLockSpace), h)
                    FROM (
                        SELECT DISTINCT hashtext(e.ordering_key) AS h FROM unnest(p_events) AS u(id) JOIN events e ON e.id = u.id ORDER BY h
                    ) AS locks;
                    INSERT INTO attempts AS a (event_id, number, started_at, duration_ms, status_code, error_class, response_body)
                    SELECT u.id, u.number, u.started, u.duration, NULLIF(u.code, -1), NULLIF(u.class, ''),
                        CASE WHEN u.has_body THEN u.body END
                    FROM unnest(p_events, p_numbers, p_started, p_durations, p_status_codes, p_error_classes, p_bodies, p_has_body)
                        AS u(id, number, started, duration, code, class, body, has_body)
                    ON CONFLICT (event_id, number) DO UPDATE SET started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                        status_code = excluded.status_code, error_class = excluded.error_class, response_body = excluded.response_body;
                    WITH settled AS (
                        UPDATE events e SET status = u.status, attempt_count = GREATEST(e.attempt_count, u.number),
                            next_attempt_at = COALESCE(NULLIF(u.next, -1), e.next_attempt_at), locked_until = NULL, lease_owner = NULL,
                            finished_at = NULLIF(u.finished, -1)
                        FROM unnest(p_events, p_numbers, p_statuses, p_next, p_finished) AS u(id, number, status, next, finished)
                        WHERE e.id = u.id AND e.status = 'pending' AND e.lease_owner = p_owner
                        RETURNING e.id, e.ordering_key
                    )
                    SELECT array_agg(id), array_agg(ordering_key) INTO v_settled, v_keys FROM settled;
                    IF v_keys IS NOT NULL THEN
                        PERFORM relevo_refresh_heads(v_keys);
                    END IF;
                    RETURN QUERY SELECT unnest(COALESCE(v_settled, '{}'));
                END
                $$
                """,
            ]),
        // Every committed change to keys or integrations, whoever makes it, is announced to the
        // instances, which keep both in memory until then (PostgresReadCache); the payload names
        // the table. Statement triggers: one notification per statement, none per row.
        Migration(
            id: "009_announced_access_changes",
            statements: [
                """
                CREATE FUNCTION relevo_announce_access_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('\(PostgresReadCache.channel)', TG_TABLE_NAME);
                    RETURN NULL;
                END
                $$
                """,
                """
                CREATE TRIGGER api_keys_announced AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
                FOR EACH STATEMENT EXECUTE FUNCTION relevo_announce_access_change()
                """,
                """
                CREATE TRIGGER integrations_announced AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integrations
                FOR EACH STATEMENT EXECUTE FUNCTION relevo_announce_access_change()
                """,
            ]),
        // The settlement finds its events by id. Its test `status = 'pending'` implied the predicate of
        // `events_unsettled`, and a plan made while the table was small read every unsettled event
        // through that index and matched each against the batch, which grows with the backlog. Only a
        // pending event has a lease owner (every other status is written with none), so the owner's
        // test alone says the same and leaves the unique index on `id` as the only way in.
        Migration(
            id: "010_settlements_by_id",
            statements: [
                """
                CREATE OR REPLACE FUNCTION relevo_finish_attempts(
                    p_events TEXT[], p_numbers BIGINT[], p_started BIGINT[], p_durations BIGINT[], p_status_codes BIGINT[],
                    p_error_classes TEXT[], p_bodies TEXT[], p_has_body BOOLEAN[], p_statuses TEXT[], p_next BIGINT[],
                    p_finished BIGINT[], p_owner TEXT
                ) RETURNS SETOF TEXT LANGUAGE plpgsql SET enable_seqscan = off AS $$
                DECLARE
                    v_settled TEXT[];
                    v_keys TEXT[];
                BEGIN
                    PERFORM pg_advisory_xact_lock(\(PostgresStore.orderingLockSpace), h)
                    FROM (
                        SELECT DISTINCT hashtext(e.ordering_key) AS h FROM unnest(p_events) AS u(id) JOIN events e ON e.id = u.id ORDER BY h
                    ) AS locks;
                    INSERT INTO attempts AS a (event_id, number, started_at, duration_ms, status_code, error_class, response_body)
                    SELECT u.id, u.number, u.started, u.duration, NULLIF(u.code, -1), NULLIF(u.class, ''),
                        CASE WHEN u.has_body THEN u.body END
                    FROM unnest(p_events, p_numbers, p_started, p_durations, p_status_codes, p_error_classes, p_bodies, p_has_body)
                        AS u(id, number, started, duration, code, class, body, has_body)
                    ON CONFLICT (event_id, number) DO UPDATE SET started_at = excluded.started_at, duration_ms = excluded.duration_ms,
                        status_code = excluded.status_code, error_class = excluded.error_class, response_body = excluded.response_body;
                    WITH settled AS (
                        UPDATE events e SET status = u.status, attempt_count = GREATEST(e.attempt_count, u.number),
                            next_attempt_at = COALESCE(NULLIF(u.next, -1), e.next_attempt_at), locked_until = NULL, lease_owner = NULL,
                            finished_at = NULLIF(u.finished, -1)
                        FROM unnest(p_events, p_numbers, p_statuses, p_next, p_finished) AS u(id, number, status, next, finished)
                        WHERE e.id = u.id AND e.lease_owner = p_owner
                        RETURNING e.id, e.ordering_key
                    )
                    SELECT array_agg(id), array_agg(ordering_key) INTO v_settled, v_keys FROM settled;
                    IF v_keys IS NOT NULL THEN
                        PERFORM relevo_refresh_heads(v_keys);
                    END IF;
                    RETURN QUERY SELECT unnest(COALESCE(v_settled, '{}'));
                END
                $$
                """
            ]),
        // Changes to bots and users are announced as those of 009 are: the instances keep channel
        // messages' contexts (bot, user, room, active conversation) in memory until then.
        Migration(
            id: "011_announced_context_changes",
            statements: [
                """
                CREATE TRIGGER bots_announced AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON bots
                FOR EACH STATEMENT EXECUTE FUNCTION relevo_announce_access_change()
                """,
                """
                CREATE TRIGGER end_users_announced AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON end_users
                FOR EACH STATEMENT EXECUTE FUNCTION relevo_announce_access_change()
                """,
            ]),
        // A batch of client-keyed writes (relevo_record_batch) that commits before it answers.
        // A statement outside a transaction sends its rows before its commit, so a caller that
        // answers on them could acknowledge a write the server loses; the procedure's own COMMIT
        // comes first, and its one row (each write's number, outcome and earlier answer, '' for
        // none) after it: no round trip is needed to prove the commit. Called outside a transaction.
        Migration(
            id: "012_records_committed_before_answered",
            statements: [
                """
                CREATE PROCEDURE relevo_record_committed(
                    p_projects TEXT[], p_scopes TEXT[], p_keys TEXT[], p_responses TEXT[], p_at BIGINT[], p_active TEXT[],
                    p_message_conversations TEXT[], p_message_ids TEXT[], p_message_directions TEXT[], p_message_types TEXT[],
                    p_message_contents TEXT[], p_message_created BIGINT[],
                    p_event_writes BIGINT[], p_ids TEXT[], p_destinations TEXT[], p_bots TEXT[], p_event_keys TEXT[],
                    p_conversations TEXT[], p_types TEXT[], p_bodies BYTEA[], p_statuses TEXT[], p_attempts BIGINT[],
                    p_due BIGINT[], p_created BIGINT[],
                    INOUT write_numbers BIGINT[] DEFAULT NULL, INOUT outcomes TEXT[] DEFAULT NULL, INOUT previous TEXT[] DEFAULT NULL
                ) LANGUAGE plpgsql AS $$
                BEGIN
                    SELECT array_agg(r.write_number ORDER BY r.write_number), array_agg(r.outcome ORDER BY r.write_number),
                        array_agg(COALESCE(r.previous, '') ORDER BY r.write_number)
                    INTO write_numbers, outcomes, previous
                    FROM relevo_record_batch(p_projects, p_scopes, p_keys, p_responses, p_at, p_active, p_message_conversations,
                        p_message_ids, p_message_directions, p_message_types, p_message_contents, p_message_created, p_event_writes,
                        p_ids, p_destinations, p_bots, p_event_keys, p_conversations, p_types, p_bodies, p_statuses, p_attempts,
                        p_due, p_created) AS r;
                    COMMIT;
                END
                $$
                """,
                // A write alone is a batch of one.
                "DROP FUNCTION relevo_record_once",
            ]),
    ]
}
