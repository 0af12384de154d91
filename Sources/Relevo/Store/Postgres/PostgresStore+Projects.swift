import PostgresNIO

extension PostgresStore {
    package func createProject(_ project: Project, firstKey: APIKeyRecord) async throws {
        try await transaction(changing: .keys) { connection in try await Self.insert(project, firstKey: firstKey, connection) }
    }

    package func createFirstProject(_ project: Project, firstKey: APIKeyRecord) async throws -> Bool {
        try await transaction(changing: .keys) { connection in
            // Conflicts with itself and with inserts: instances seeding at once take turns, and the later ones find a project.
            try await connection.run("LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE")
            guard try await connection.rows("SELECT 1 FROM projects LIMIT 1").isEmpty else { return false }
            try await Self.insert(project, firstKey: firstKey, connection)
            return true
        }
    }

    private static func insert(_ project: Project, firstKey: APIKeyRecord, _ connection: PostgresConnection) async throws {
        try await connection.run(
            "INSERT INTO projects (id, name, created_at) VALUES (\(project.id), \(project.name), \(project.createdAt.millisecondsSince1970))")
        try await insert(firstKey, connection)
    }

    package func projectCount() async throws -> Int {
        try await rows("SELECT COUNT(*) AS count FROM projects")[0].value("count", as: Int.self)
    }

    package func addKey(_ key: APIKeyRecord) async throws {
        try await transaction(changing: .keys) { connection in
            guard try await connection.run("SELECT 1 FROM projects WHERE id = \(key.projectId) FOR SHARE") > 0 else {
                throw StoreError.notFound
            }
            try await Self.insert(key, connection)
        }
    }

    package func revokeKey(projectId: String, keyId: String?, hash: String?, at time: Timestamp) async throws -> Bool {
        try await transaction(changing: .keys) { connection in
            try await connection.run(
                """
                UPDATE api_keys SET revoked_at = \(time.millisecondsSince1970)
                WHERE project_id = \(projectId) AND revoked_at IS NULL AND (id = \(keyId) OR hash = \(hash)) RETURNING 1
                """) > 0
        }
    }

    package func keys(projectId: String) async throws -> [APIKeyRecord] {
        try await rows("SELECT \(columns: Self.keyColumns) FROM api_keys WHERE project_id = \(projectId) ORDER BY created_at, id")
            .map(Self.decodeKey)
    }

    private static let keyColumns = ["id", "project_id", "hash", "created_at", "revoked_at"]

    private static func decodeKey(_ row: PostgresRandomAccessRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.value("id"), projectId: try row.value("project_id"), hash: try row.value("hash"),
            createdAt: try row.timestamp("created_at"), revokedAt: try row.optionalTimestamp("revoked_at"))
    }

    package func project(id: String) async throws -> Project? {
        try await rows("SELECT id, name, created_at FROM projects WHERE id = \(id)").first.map { row in
            Project(id: try row.value("id"), name: try row.value("name"), createdAt: try row.timestamp("created_at"))
        }
    }

    package func projectIdForKey(hash: String) async throws -> String? {
        try await readCache.projectForKey(hash) {
            try await batched(hash, in: keyReads) { [self] hashes in
                try Self.byNumber(try await rows(PreparedQuery<KeyOwners>(hashes)), count: hashes.count).map { row in
                    try row?.value("project_id", as: String.self)
                }
            }
        }
    }

    /// Every API request's key lookup, for many keys at once, numbered `n` from 1 in array order.
    /// $1 the hashes.
    enum KeyOwners: PreparedSQL {
        static let sql = """
            SELECT q.n, k.project_id FROM unnest($1::text[]) WITH ORDINALITY AS q(hash, n)
            JOIN api_keys k ON k.hash = q.hash AND k.revoked_at IS NULL
            """
    }

    private static func insert(_ key: APIKeyRecord, _ connection: PostgresConnection) async throws {
        try await connection.run(
            """
            INSERT INTO api_keys (id, project_id, hash, created_at, revoked_at)
            VALUES (\(key.id), \(key.projectId), \(key.hash), \(key.createdAt.millisecondsSince1970), \(key.revokedAt?.millisecondsSince1970))
            """)
    }
}
