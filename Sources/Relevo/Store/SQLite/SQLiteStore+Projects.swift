import GRDB

extension SQLiteStore {
    public func createProject(_ project: Project, firstKey: APIKeyRecord) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)",
                arguments: [project.id, project.name, project.createdAt.millisecondsSince1970])
            try Self.insert(firstKey, db)
        }
    }

    public func project(id: String) async throws -> Project? {
        try read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT id, name, created_at FROM projects WHERE id = ?"), arguments: [id])
                .map { Project(id: $0["id"], name: $0["name"], createdAt: Timestamp(millisecondsSince1970: $0["created_at"])) }
        }
    }

    public func projectCount() async throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM projects") ?? 0 }
    }

    public func addKey(_ key: APIKeyRecord) async throws {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM projects WHERE id = ?", arguments: [key.projectId]) != nil else {
                throw StoreError.notFound
            }
            try Self.insert(key, db)
        }
    }

    public func revokeKey(projectId: String, keyId: String?, hash: String?, at time: Timestamp) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE api_keys SET revoked_at = ?
                    WHERE project_id = ? AND revoked_at IS NULL AND (id = ? OR hash = ?)
                    """,
                arguments: [time.millisecondsSince1970, projectId, keyId, hash])
            return db.changesCount > 0
        }
    }

    public func keys(projectId: String) async throws -> [APIKeyRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM api_keys WHERE project_id = ? ORDER BY created_at, id", arguments: [projectId]
            ).map { row in
                APIKeyRecord(
                    id: row["id"], projectId: row["project_id"], hash: row["hash"],
                    createdAt: Timestamp(millisecondsSince1970: row["created_at"]),
                    revokedAt: (row["revoked_at"] as Int64?).map(Timestamp.init(millisecondsSince1970:)))
            }
        }
    }

    public func projectIdForKey(hash: String) async throws -> String? {
        try read { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT project_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL"),
                arguments: [hash])
        }
    }

    private static func insert(_ key: APIKeyRecord, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO api_keys (id, project_id, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [key.id, key.projectId, key.hash, key.createdAt.millisecondsSince1970, key.revokedAt?.millisecondsSince1970])
    }
}
