import Logging
import PostgresNIO

/// The versioned schema of the PostgreSQL store, applied on start by every instance.
///
/// All pending migrations run in one transaction that first takes an advisory lock: when several
/// instances start at once, one migrates and the others wait, then find nothing left to do.
/// Migrations are append-only, like SQLite's; the schema mirrors SQLite's table for table, so the
/// two stores answer alike (the store contract suite runs on both).
enum PostgresMigrations {
    struct Migration {
        let id: String
        /// One statement each: the extended query protocol runs a single statement per query.
        let statements: [String]
    }

    /// Advisory lock key of the migration step ("RLVM").
    static let lockKey: Int64 = 0x524C_564D

    static func apply(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: PostgresStore.quiet) { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))")
            try await connection.run(
                "CREATE TABLE IF NOT EXISTS relevo_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            let applied = Set(try await connection.rows("SELECT id FROM relevo_migrations").map { try $0[0].decode(String.self) })
            for migration in all where !applied.contains(migration.id) {
                logger.info("applying migration", metadata: ["migration": .string(migration.id)])
                for statement in migration.statements {
                    try await connection.run(PostgresQuery(unsafeSQL: statement))
                }
                try await connection.run("INSERT INTO relevo_migrations (id) VALUES (\(migration.id))")
            }
        }
    }

    static let all: [Migration] = [
        Migration(id: "001_schema", statements: [
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
            // The head of each ordering key (its oldest unsettled event), as in SQLite: a claim reads heads only.
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
    ]
}
