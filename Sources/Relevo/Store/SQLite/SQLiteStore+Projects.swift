import GRDB

extension SQLiteStore {
    package func createProject(_ project: Project, firstKey: APIKeyRecord) async throws {
        try await write { db in try Self.insert(project, firstKey: firstKey, db) }
    }

    package func createFirstProject(_ project: Project, firstKey: APIKeyRecord) async throws -> Bool {
        try await write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM projects") == 0 else { return false }
            try Self.insert(project, firstKey: firstKey, db)
            return true
        }
    }

    private static func insert(_ project: Project, firstKey: APIKeyRecord, _ db: Database) throws {
        try db.run(
            sql: "INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)",
            arguments: [project.id, project.name, project.createdAt.millisecondsSince1970])
        try insert(firstKey, db)
    }

    package func projectCount() async throws -> Int {
        Int(try reader.fetchOne("SELECT COUNT(*) AS count FROM projects", [])?.integer("count") ?? 0)
    }

    package func addKey(_ key: APIKeyRecord) async throws {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM projects WHERE id = ?", arguments: [key.projectId]) != nil else {
                throw StoreError.notFound
            }
            try Self.insert(key, db)
        }
    }

    package func revokeKey(projectId: String, keyId: String?, hash: String?, at time: Timestamp) async throws -> Bool {
        try await write { db in
            try db.run(
                sql: """
                    UPDATE api_keys SET revoked_at = ?
                    WHERE project_id = ? AND revoked_at IS NULL AND (id = ? OR hash = ?)
                    """,
                arguments: [time.millisecondsSince1970, projectId, keyId, hash])
            return db.changesCount > 0
        }
    }

    package func keys(projectId: String) async throws -> [APIKeyRecord] {
        try reader.fetchAll(
            "SELECT id, project_id, hash, created_at, revoked_at FROM api_keys WHERE project_id = ? ORDER BY created_at, id",
            [.text(projectId)]
        ).map { row in
            APIKeyRecord(
                id: try row.text("id"), projectId: try row.text("project_id"), hash: try row.text("hash"),
                createdAt: try row.timestamp("created_at"), revokedAt: try row.optionalTimestamp("revoked_at"))
        }
    }

    package func project(id: String) async throws -> Project? {
        try reader.fetchOne("SELECT id, name, created_at FROM projects WHERE id = ?", [.text(id)]).map { row in
            Project(id: try row.text("id"), name: try row.text("name"), createdAt: try row.timestamp("created_at"))
        }
    }

    package func projectIdForKey(hash: String) async throws -> String? {
        try cache.projectForKey(hash) {
            try reader.fetchOne("SELECT project_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL", [.text(hash)])?.text("project_id")
        }
    }

    private static func insert(_ key: APIKeyRecord, _ db: Database) throws {
        try db.run(
            sql: "INSERT INTO api_keys (id, project_id, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [key.id, key.projectId, key.hash, key.createdAt.millisecondsSince1970, key.revokedAt?.millisecondsSince1970])
    }
}
