import PostgresNIO

extension PostgresStore {
    package func integration(projectId: String) async throws -> IntegrationRecord? {
        try await readCache.integration(projectId) {
            try await batched(projectId, in: integrationReads) { [self] projects in
                try Self.byNumber(try await rows(PreparedQuery<IntegrationReads>(projects)), count: projects.count).map { row in
                    try row.map(Self.decodeIntegration)
                }
            }
        }
    }

    /// Read before every attempt to the panel, for many projects at once, numbered `n` from 1 in
    /// array order. $1 the projects.
    enum IntegrationReads: PreparedSQL {
        static let sql = """
            SELECT q.n, \(PostgresStore.integrationColumns.selectList(of: "i"))
            FROM unnest($1::text[]) WITH ORDINALITY AS q(project, n) JOIN integrations i ON i.project_id = q.project
            """
    }

    package func latestIntegration() async throws -> IntegrationRecord? {
        try await rows("SELECT \(columns: Self.integrationColumns) FROM integrations ORDER BY updated_at DESC LIMIT 1")
            .first.map(Self.decodeIntegration)
    }

    package func insertIntegration(_ integration: IntegrationRecord) async throws {
        try await transaction(changing: .integrations) { connection in
            try await connection.run(
                """
                INSERT INTO integrations (project_id, id, webhook_url, auth_type, authorization_sealed, signing_secret_sealed,
                    previous_secret_sealed, previous_secret_expires_at, created_at, updated_at)
                VALUES (\(integration.projectId), \(integration.id), \(integration.webhookUrl), \(integration.authType.rawValue),
                    \(integration.authorization?.storedForm), \(integration.signingSecret.storedForm),
                    \(integration.previousSigningSecret?.storedForm), \(integration.previousSecretExpiresAt?.millisecondsSince1970),
                    \(integration.createdAt.millisecondsSince1970), \(integration.updatedAt.millisecondsSince1970))
                """)
        }
    }

    package func modifyIntegration(
        projectId: String, _ change: @escaping @Sendable (inout IntegrationRecord) throws -> Void
    ) async throws -> IntegrationRecord? {
        try await transaction(changing: .integrations) { connection in
            // FOR UPDATE: two instances changing the same integration apply their changes one after the other.
            guard
                var record = try await connection.rows(
                    "SELECT \(columns: Self.integrationColumns) FROM integrations WHERE project_id = \(projectId) FOR UPDATE"
                ).first.map(Self.decodeIntegration)
            else { return nil }
            try change(&record)
            try await connection.run(
                """
                UPDATE integrations SET id = \(record.id), webhook_url = \(record.webhookUrl), auth_type = \(record.authType.rawValue),
                    authorization_sealed = \(record.authorization?.storedForm), signing_secret_sealed = \(record.signingSecret.storedForm),
                    previous_secret_sealed = \(record.previousSigningSecret?.storedForm),
                    previous_secret_expires_at = \(record.previousSecretExpiresAt?.millisecondsSince1970),
                    created_at = \(record.createdAt.millisecondsSince1970), updated_at = \(record.updatedAt.millisecondsSince1970)
                WHERE project_id = \(record.projectId)
                """)
            return record
        }
    }

    package func deleteIntegration(projectId: String, at time: Timestamp) async throws -> Bool {
        let deleted = try await transaction(changing: .integrations) { connection -> Bool in
            guard try await connection.run("DELETE FROM integrations WHERE project_id = \(projectId) RETURNING 1") > 0 else { return false }
            let millis = time.millisecondsSince1970
            let keys = try await connection.rows(
                """
                SELECT DISTINCT ordering_key FROM events
                WHERE project_id = \(projectId) AND destination = 'panel' AND status IN ('pending', 'delivering', 'held')
                """
            ).map { try $0.value("ordering_key", as: String.self) }
            try await Self.lockOrderingKeys(keys, connection)
            try await connection.run(
                """
                UPDATE events SET status = 'cancelled', finished_at = \(millis), locked_until = NULL, lease_owner = NULL
                WHERE project_id = \(projectId) AND destination = 'panel' AND status IN ('pending', 'delivering', 'held')
                """)
            try await Self.refreshHeads(keys, connection)
            try await connection.run(
                """
                UPDATE conversations SET state = 'closed', end_at = \(millis), ended_reason = 'integration_deleted'
                WHERE project_id = \(projectId) AND state = 'active'
                """)
            return true
        }
        return deleted
    }

    private static let integrationColumns = [
        "project_id", "id", "webhook_url", "auth_type", "authorization_sealed", "signing_secret_sealed",
        "previous_secret_sealed", "previous_secret_expires_at", "created_at", "updated_at",
    ]

    private static func decodeIntegration(_ row: PostgresRandomAccessRow) throws -> IntegrationRecord {
        IntegrationRecord(
            id: try row.value("id"), projectId: try row.value("project_id"), webhookUrl: try row.value("webhook_url"),
            authType: try row.enumeration("auth_type"),
            authorization: try row.value("authorization_sealed", as: String?.self).map(SealedSecret.init(storedForm:)),
            signingSecret: SealedSecret(storedForm: try row.value("signing_secret_sealed")),
            previousSigningSecret: try row.value("previous_secret_sealed", as: String?.self).map(SealedSecret.init(storedForm:)),
            previousSecretExpiresAt: try row.optionalTimestamp("previous_secret_expires_at"),
            createdAt: try row.timestamp("created_at"), updatedAt: try row.timestamp("updated_at"))
    }
}
