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
            try db.execute(sql: """
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
        return migrator
    }
}
