import GRDB

extension SQLiteStore {
    public func integration(projectId: String) async throws -> IntegrationRecord? {
        try read { db in try Self.fetchIntegration(projectId, db) }
    }

    public func insertIntegration(_ integration: IntegrationRecord) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO integrations (project_id, id, webhook_url, auth_type, authorization_sealed,
                        signing_secret_sealed, previous_secret_sealed, previous_secret_expires_at, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: StatementArguments(Self.columns(integration)))
        }
    }

    public func modifyIntegration(
        projectId: String, _ change: @escaping @Sendable (inout IntegrationRecord) throws -> Void
    ) async throws -> IntegrationRecord? {
        try await write { db in
            guard var record = try Self.fetchIntegration(projectId, db) else { return nil }
            try change(&record)
            try db.execute(
                sql: """
                    UPDATE integrations SET id = ?, webhook_url = ?, auth_type = ?, authorization_sealed = ?,
                        signing_secret_sealed = ?, previous_secret_sealed = ?, previous_secret_expires_at = ?,
                        created_at = ?, updated_at = ?
                    WHERE project_id = ?
                    """,
                arguments: StatementArguments(Self.columns(record).dropFirst() + [record.projectId]))
            return record
        }
    }

    public func deleteIntegration(projectId: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM integrations WHERE project_id = ?", arguments: [projectId])
            return db.changesCount > 0
        }
    }

    private static func fetchIntegration(_ projectId: String, _ db: Database) throws -> IntegrationRecord? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM integrations WHERE project_id = ?"), arguments: [projectId])
        else { return nil }
        return IntegrationRecord(
            id: row["id"], projectId: row["project_id"], webhookUrl: row["webhook_url"],
            authType: AuthType(rawValue: row["auth_type"]) ?? .noAuth,
            authorization: (row["authorization_sealed"] as String?).map(SealedSecret.init(storedForm:)),
            signingSecret: SealedSecret(storedForm: row["signing_secret_sealed"]),
            previousSigningSecret: (row["previous_secret_sealed"] as String?).map(SealedSecret.init(storedForm:)),
            previousSecretExpiresAt: (row["previous_secret_expires_at"] as Int64?).map(Timestamp.init(millisecondsSince1970:)),
            createdAt: Timestamp(millisecondsSince1970: row["created_at"]),
            updatedAt: Timestamp(millisecondsSince1970: row["updated_at"]))
    }

    /// Column values in `INSERT` order, `project_id` first.
    private static func columns(_ record: IntegrationRecord) -> [(any DatabaseValueConvertible)?] {
        [
            record.projectId, record.id, record.webhookUrl, record.authType.rawValue, record.authorization?.storedForm,
            record.signingSecret.storedForm, record.previousSigningSecret?.storedForm,
            record.previousSecretExpiresAt?.millisecondsSince1970, record.createdAt.millisecondsSince1970,
            record.updatedAt.millisecondsSince1970,
        ]
    }
}
