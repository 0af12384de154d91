import GRDB

extension SQLiteStore {
    package func integration(projectId: String) async throws -> IntegrationRecord? {
        try cache.integration(projectId) {
            try reader.fetchOne(Self.selectIntegration, [.text(projectId)]).map(Self.decodeIntegration)
        }
    }

    package func latestIntegration() async throws -> IntegrationRecord? {
        try reader.fetchOne("SELECT \(Self.integrationColumns) FROM integrations ORDER BY updated_at DESC LIMIT 1", [])
            .map(Self.decodeIntegration)
    }

    package func insertIntegration(_ integration: IntegrationRecord) async throws {
        try await write { db in
            try db.run(
                sql: """
                    INSERT INTO integrations (project_id, id, webhook_url, auth_type, authorization_sealed,
                        signing_secret_sealed, previous_secret_sealed, previous_secret_expires_at, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: StatementArguments(Self.columns(integration)))
        }
    }

    package func modifyIntegration(
        projectId: String, _ change: @escaping @Sendable (inout IntegrationRecord) throws -> Void
    ) async throws -> IntegrationRecord? {
        try await write { db in
            guard var record = try Self.fetchIntegration(projectId, db) else { return nil }
            try change(&record)
            try db.run(
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

    package func deleteIntegration(projectId: String, at time: Timestamp) async throws -> Bool {
        let millis = time.millisecondsSince1970
        return try await write(
            { db -> (deleted: Bool, heads: [SQLiteDeliverySchedule.KeyHead]) in
                try db.run(sql: "DELETE FROM integrations WHERE project_id = ?", arguments: [projectId])
                guard db.changesCount > 0 else { return (false, []) }
                let keys = try db.strings(
                    sql: """
                        UPDATE events SET status = 'cancelled', finished_at = ?
                        WHERE project_id = ? AND destination = 'panel' AND finished_at IS NULL
                        RETURNING ordering_key
                        """,
                    arguments: [millis, projectId])
                try db.run(
                    sql: """
                        UPDATE conversations SET state = 'closed', end_at = ?, ended_reason = 'integration_deleted'
                        WHERE project_id = ? AND state = 'active'
                        """,
                    arguments: [millis, projectId])
                return (true, try Self.currentHeads(keys, db))
            }, afterCommit: { self.schedule.update($0.heads) }
        ).deleted
    }

    /// The columns of `integrations`, in `INSERT` order.
    private static let integrationColumns = """
        project_id, id, webhook_url, auth_type, authorization_sealed, signing_secret_sealed,
            previous_secret_sealed, previous_secret_expires_at, created_at, updated_at
        """
    private static let selectIntegration = "SELECT \(integrationColumns) FROM integrations WHERE project_id = ?"

    /// Reads inside a write transaction (GRDB's connection), decoded like the lock-free reads.
    private static func fetchIntegration(_ projectId: String, _ db: Database) throws -> IntegrationRecord? {
        try db.firstRow(sql: selectIntegration, [.text(projectId)]).map(decodeIntegration)
    }

    private static func decodeIntegration(_ row: SQLiteRow) throws -> IntegrationRecord {
        IntegrationRecord(
            id: try row.text("id"), projectId: try row.text("project_id"), webhookUrl: try row.text("webhook_url"),
            authType: try row.enumeration("auth_type"),
            authorization: try row.optionalText("authorization_sealed").map(SealedSecret.init(storedForm:)),
            signingSecret: SealedSecret(storedForm: try row.text("signing_secret_sealed")),
            previousSigningSecret: try row.optionalText("previous_secret_sealed").map(SealedSecret.init(storedForm:)),
            previousSecretExpiresAt: try row.optionalTimestamp("previous_secret_expires_at"),
            createdAt: try row.timestamp("created_at"), updatedAt: try row.timestamp("updated_at"))
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
