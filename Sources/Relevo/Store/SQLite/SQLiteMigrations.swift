import GRDB

/// The versioned schema of the SQLite store, applied on start.
///
/// Migrations are append-only: a released migration is never edited, a change is a new one.
/// GRDB's migrator records applied identifiers in `grdb_migrations` and runs each pending one in
/// its own transaction.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("001_projects_keys_integrations") { db in
            try db.execute(
                sql: """
                    CREATE TABLE projects (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    ) STRICT;
                    CREATE TABLE api_keys (
                        id TEXT PRIMARY KEY NOT NULL,
                        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                        hash TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    ) STRICT;
                    CREATE INDEX api_keys_by_project ON api_keys(project_id);
                    CREATE TABLE integrations (
                        project_id TEXT PRIMARY KEY NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                        id TEXT NOT NULL UNIQUE,
                        webhook_url TEXT NOT NULL,
                        auth_type TEXT NOT NULL,
                        authorization_sealed TEXT,
                        signing_secret_sealed TEXT NOT NULL,
                        previous_secret_sealed TEXT,
                        previous_secret_expires_at INTEGER,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    ) STRICT;
                    """)
        }
        migrator.registerMigration("002_conversations_outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE bots (
                        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                        id TEXT NOT NULL,
                        name TEXT NOT NULL,
                        channel_webhook_url TEXT,
                        channel_secret_sealed TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (project_id, id)
                    ) STRICT;
                    CREATE TABLE end_users (
                        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                        id TEXT NOT NULL,
                        names TEXT NOT NULL,
                        reference_id TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (project_id, id)
                    ) STRICT;
                    CREATE TABLE rooms (
                        project_id TEXT NOT NULL,
                        id TEXT NOT NULL,
                        bot_id TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (project_id, id),
                        UNIQUE (project_id, bot_id, user_id)
                    ) STRICT;
                    CREATE TABLE conversations (
                        project_id TEXT NOT NULL,
                        id TEXT NOT NULL,
                        room_id TEXT NOT NULL,
                        bot_id TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        start_at INTEGER NOT NULL,
                        end_at INTEGER,
                        ended_reason TEXT,
                        assignment TEXT,
                        metadata TEXT,
                        PRIMARY KEY (project_id, id)
                    ) STRICT;
                    -- At most one active conversation per room: the database enforces it, not a read-then-write.
                    CREATE UNIQUE INDEX conversations_one_active_per_room ON conversations(project_id, room_id) WHERE state = 'active';
                    CREATE TABLE messages (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        project_id TEXT NOT NULL,
                        conversation_id TEXT NOT NULL,
                        id TEXT NOT NULL,
                        direction TEXT NOT NULL,
                        type TEXT NOT NULL,
                        content TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    ) STRICT;
                    CREATE INDEX messages_by_conversation ON messages(project_id, conversation_id, seq);
                    -- First answer to an idempotent request, by (project, scope, client-chosen id).
                    CREATE TABLE idempotency (
                        project_id TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        key TEXT NOT NULL,
                        response TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (project_id, scope, key)
                    ) STRICT;
                    -- The transactional outbox: written in the same transaction as the change that causes it.
                    CREATE TABLE events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        project_id TEXT NOT NULL,
                        destination TEXT NOT NULL,
                        bot_id TEXT,
                        ordering_key TEXT NOT NULL,
                        conversation_id TEXT,
                        event_type TEXT NOT NULL,
                        body BLOB NOT NULL,
                        status TEXT NOT NULL,
                        attempt_count INTEGER NOT NULL DEFAULT 0,
                        retry_base INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        locked_until INTEGER,
                        created_at INTEGER NOT NULL,
                        finished_at INTEGER
                    ) STRICT;
                    CREATE INDEX events_due ON events(status, next_attempt_at, seq);
                    CREATE INDEX events_settled ON events(status, finished_at);
                    -- Only unsettled events: "is there an older unsettled event of this key?" is one index probe,
                    -- however long the key's delivered history grows.
                    CREATE INDEX events_unsettled ON events(ordering_key, seq) WHERE status IN ('pending', 'delivering', 'held');
                    CREATE INDEX events_by_project ON events(project_id, seq);
                    CREATE INDEX events_by_project_status ON events(project_id, status, seq);
                    CREATE INDEX events_by_conversation ON events(project_id, conversation_id, seq);
                    -- The head of each ordering key: the seq of its oldest unsettled (pending, delivering, held)
                    -- event. Kept in the same transactions as the events, so a claim reads heads only and its
                    -- cost does not depend on how many events wait behind them.
                    CREATE TABLE heads (
                        ordering_key TEXT PRIMARY KEY NOT NULL,
                        seq INTEGER NOT NULL
                    ) STRICT;
                    CREATE INDEX heads_by_seq ON heads(seq);
                    CREATE TABLE attempts (
                        event_id TEXT NOT NULL,
                        number INTEGER NOT NULL,
                        started_at INTEGER NOT NULL,
                        duration_ms INTEGER NOT NULL,
                        status_code INTEGER,
                        error_class TEXT,
                        response_body TEXT,
                        PRIMARY KEY (event_id, number)
                    ) STRICT;
                    """)
        }
        migrator.registerMigration("003_lighter_delivery_writes") { db in
            // Every event is written twice (queued, settled) and each index is a B-tree to update, most
            // on a page of their own: keep only what a query needs, partial where only few rows matter.
            // The server keeps the heads in memory (SQLiteDeliverySchedule, read from events_unsettled at
            // start), claims read no index, and retries are timed in memory too.
            try db.execute(
                sql: """
                    DROP TABLE heads;
                    -- Unsettled (pending, held) is exactly `finished_at IS NULL`. A condition with IN made
                    -- SQLite build two temporary tables for every UPDATE of an event, to test the old and
                    -- the new row against the list.
                    DROP INDEX events_unsettled;
                    CREATE INDEX events_unsettled ON events(ordering_key, seq) WHERE finished_at IS NULL;
                    DROP INDEX events_due;
                    DROP INDEX events_settled;
                    DROP INDEX events_by_project_status;
                    -- Retention: delivered events by age.
                    CREATE INDEX events_delivered ON events(finished_at) WHERE status = 'delivered';
                    -- The event log filtered by `failed`, and bulk redelivery. Other statuses are either most
                    -- events (delivered) or recent ones (pending): the log walks events_by_project for them.
                    CREATE INDEX events_failed ON events(project_id, seq) WHERE status = 'failed';
                    -- Clustered by their keys: one B-tree per table instead of a table and its key index.
                    CREATE TABLE idempotency_by_key (
                        project_id TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        key TEXT NOT NULL,
                        response TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (project_id, scope, key)
                    ) STRICT, WITHOUT ROWID;
                    INSERT INTO idempotency_by_key SELECT project_id, scope, key, response, created_at FROM idempotency;
                    DROP TABLE idempotency;
                    ALTER TABLE idempotency_by_key RENAME TO idempotency;
                    CREATE TABLE attempts_by_event (
                        event_id TEXT NOT NULL,
                        number INTEGER NOT NULL,
                        started_at INTEGER NOT NULL,
                        duration_ms INTEGER NOT NULL,
                        status_code INTEGER,
                        error_class TEXT,
                        response_body TEXT,
                        PRIMARY KEY (event_id, number)
                    ) STRICT, WITHOUT ROWID;
                    INSERT INTO attempts_by_event
                        SELECT event_id, number, started_at, duration_ms, status_code, error_class, response_body FROM attempts;
                    DROP TABLE attempts;
                    ALTER TABLE attempts_by_event RENAME TO attempts;
                    """)
        }
        migrator.registerMigration("004_event_bodies_apart") { db in
            // A settlement rewrites its event's row, a few bytes longer (status, finished_at). With the
            // body in the row (~6 rows a page, appended full) that overflows the page and SQLite
            // rebalances it with its siblings and parent. Bodies are written once and never change, so
            // they live apart, and the row a settlement rewrites is small.
            try db.execute(
                sql: """
                    CREATE TABLE event_bodies (
                        seq INTEGER PRIMARY KEY,
                        body BLOB NOT NULL
                    ) STRICT;
                    INSERT INTO event_bodies (seq, body) SELECT seq, body FROM events;
                    ALTER TABLE events DROP COLUMN body;
                    """)
        }
        migrator.registerMigration("005_conversation_items") { db in
            // The history and the event log each kept an index by conversation, and a channel message
            // adds to both at the end of its conversation: two index pages at random places of their
            // B-trees per message, rewritten whole in the WAL. One table for both puts the two
            // entries side by side, on one page. An event's item sits at position 2 × seq; a message's
            // right after the newest event when it is written (2 × that seq + 1, its own seq breaking
            // ties), so a message lands next to the event written with it. Messages written before
            // this migration keep their order, before everything newer.
            try db.execute(
                sql: """
                    CREATE TABLE conversation_items (
                        project_id TEXT NOT NULL,
                        conversation_id TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        message_seq INTEGER NOT NULL,  -- 0 for an event's item
                        event_seq INTEGER,             -- NULL for a message's item
                        PRIMARY KEY (project_id, conversation_id, position, message_seq)
                    ) STRICT, WITHOUT ROWID;
                    INSERT INTO conversation_items (project_id, conversation_id, position, message_seq, event_seq)
                        SELECT project_id, conversation_id, 2 * seq, 0, seq FROM events WHERE conversation_id IS NOT NULL;
                    INSERT INTO conversation_items (project_id, conversation_id, position, message_seq, event_seq)
                        SELECT project_id, conversation_id, 2 * seq + 1 - 4611686018427387904, seq, NULL FROM messages;
                    DROP INDEX events_by_conversation;
                    DROP INDEX messages_by_conversation;
                    """)
        }
        migrator.registerMigration("006_conversation_items_by_number") { db in
            // An item carrying its project and conversation ids is ~70 bytes, ~50 of them the ids: few
            // fit a page, and with many conversations written at once a leaf splits every few inserts.
            // A conversation gets a number instead, its table's INTEGER PRIMARY KEY (kept by VACUUM,
            // unlike an implicit rowid), and an item is ~15 bytes.
            try db.execute(
                sql: """
                    CREATE TABLE conversations_numbered (
                        seq INTEGER PRIMARY KEY,
                        project_id TEXT NOT NULL,
                        id TEXT NOT NULL,
                        room_id TEXT NOT NULL,
                        bot_id TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        start_at INTEGER NOT NULL,
                        end_at INTEGER,
                        ended_reason TEXT,
                        assignment TEXT,
                        metadata TEXT,
                        UNIQUE (project_id, id)
                    ) STRICT;
                    INSERT INTO conversations_numbered (seq, project_id, id, room_id, bot_id, user_id, state, start_at, end_at,
                            ended_reason, assignment, metadata)
                        SELECT rowid, project_id, id, room_id, bot_id, user_id, state, start_at, end_at, ended_reason, assignment, metadata
                        FROM conversations;
                    DROP TABLE conversations;
                    ALTER TABLE conversations_numbered RENAME TO conversations;
                    CREATE UNIQUE INDEX conversations_one_active_per_room ON conversations(project_id, room_id) WHERE state = 'active';
                    CREATE TABLE conversation_items_numbered (
                        conversation INTEGER NOT NULL,  -- conversations.seq
                        position INTEGER NOT NULL,
                        message_seq INTEGER NOT NULL,   -- 0 for an event's item
                        event_seq INTEGER,              -- NULL for a message's item
                        PRIMARY KEY (conversation, position, message_seq)
                    ) STRICT, WITHOUT ROWID;
                    INSERT INTO conversation_items_numbered (conversation, position, message_seq, event_seq)
                        SELECT c.seq, i.position, i.message_seq, i.event_seq
                        FROM conversation_items i JOIN conversations c ON c.project_id = i.project_id AND c.id = i.conversation_id;
                    DROP TABLE conversation_items;
                    ALTER TABLE conversation_items_numbered RENAME TO conversation_items;
                    """)
        }
        migrator.registerMigration("007_events_settle_room") { db in
            // A settlement makes its event's row 8 bytes longer ('pending' → 'delivered', and
            // finished_at from NULL to a 6-byte integer). Rows are appended, so their page is full,
            // and a longer row would make SQLite rebalance the page with its neighbours. A new row
            // carries 8 spare bytes that the settlement gives back (see SQLiteStore.settle), so the
            // row keeps its size and is rewritten in place.
            try db.execute(sql: "ALTER TABLE events ADD COLUMN settle_room BLOB")
        }
        migrator.registerMigration("008_conversation_items_in_bulk") { db in
            // Items are written in bulk (SQLiteConversationIndex): this records how far. A message
            // also keeps the newest event when it was written, which its position derives from.
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN after_event INTEGER;
                    CREATE TABLE conversation_items_indexed (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        event_seq INTEGER NOT NULL,
                        message_seq INTEGER NOT NULL
                    ) STRICT;
                    INSERT INTO conversation_items_indexed (id, event_seq, message_seq)
                        VALUES (1, COALESCE((SELECT MAX(seq) FROM events), 0), COALESCE((SELECT MAX(seq) FROM messages), 0));
                    """)
        }
        migrator.registerMigration("009_events_without_lease") { db in
            // Claims of a SQLite store live in the serving process's memory: no lease is written.
            try db.execute(sql: "ALTER TABLE events DROP COLUMN locked_until")
        }
        migrator.registerMigration("010_conversation_lists") { db in
            // The conversation list pages newest first by `seq`, for the whole project or by state,
            // bot or user: an index for each, so that a page reads its rows and no others.
            try db.execute(
                sql: """
                    CREATE INDEX conversations_by_project ON conversations(project_id, seq);
                    CREATE INDEX conversations_by_state ON conversations(project_id, state, seq);
                    CREATE INDEX conversations_by_bot ON conversations(project_id, bot_id, seq);
                    CREATE INDEX conversations_by_user ON conversations(project_id, user_id, seq);
                    """)
        }
        migrator.registerMigration("011_web_chat") { db in
            // A bot's web chat, and which rooms came through one (their replies are read by the widget).
            try db.execute(
                sql: """
                    ALTER TABLE rooms ADD COLUMN channel TEXT;
                    CREATE TABLE web_chats (
                        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                        bot_id TEXT NOT NULL,
                        allowed_origins TEXT NOT NULL,  -- a JSON array of origins
                        start_mode TEXT NOT NULL,
                        greeting TEXT,
                        identity_secret_sealed TEXT,
                        agent_timeout_seconds INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (project_id, bot_id)
                    ) STRICT;
                    """)
        }
        return migrator
    }
}
