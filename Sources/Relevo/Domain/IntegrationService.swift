/// The rules of the Integration API (E1–E5, §2).
///
/// Holds no state of its own: everything is in the store, secrets sealed by the ``SecretBox``.
package struct IntegrationService: Sendable {
    let store: any RelevoStore
    let secrets: SecretBox
    let destinationGuard: DestinationGuard
    let now: @Sendable () -> Timestamp

    /// The longest a replaced signing secret keeps working (7 days).
    package static let maximumGraceSeconds = 604_800

    package init(
        store: any RelevoStore, secrets: SecretBox, destinationGuard: DestinationGuard,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.store = store
        self.secrets = secrets
        self.destinationGuard = destinationGuard
        self.now = now
    }

    /// The result of E1: the record and the signing secret, shown this once.
    package struct Created: Sendable {
        package let integration: IntegrationRecord
        package let signingSecret: String
    }

    /// E1. Throws `invalidFields` or `integrationAlreadyExists`.
    package func create(projectId: String, input: IntegrationInput) async throws -> Created {
        var errors = input.problems
        let authType = input.authType ?? .noAuth
        IntegrationInput.checkAuthorization(input.authorization, for: authType, into: &errors)
        if let url = input.webhookUrl { await checkURL(url, into: &errors) }
        try errors.ordered(IntegrationInput.fieldOrder).check()

        if try await store.integration(projectId: projectId) != nil { throw DomainError.integrationAlreadyExists(projectId: projectId) }
        let time = now()
        let id = Identifier.generate()
        let secret = SecureRandom.hex(byteCount: 32)
        let record = IntegrationRecord(
            id: id, projectId: projectId, webhookUrl: input.webhookUrl!, authType: authType,
            authorization: authType.needsCredential ? secrets.seal(input.authorization!, context: Self.credentialContext(id)) : nil,
            signingSecret: secrets.seal(secret, context: Self.signingContext(id)), createdAt: time, updatedAt: time)
        do {
            try await store.insertIntegration(record)
        } catch StoreError.conflict {
            throw DomainError.integrationAlreadyExists(projectId: projectId)
        }
        return Created(integration: record, signingSecret: secret)
    }

    /// E2.
    package func get(projectId: String) async throws -> IntegrationRecord {
        guard let record = try await store.integration(projectId: projectId) else {
            throw DomainError.integrationNotFound(projectId: projectId)
        }
        return record
    }

    /// E3.
    package func update(projectId: String, input: IntegrationInput) async throws -> IntegrationRecord {
        var errors = input.problems
        if let url = input.webhookUrl { await checkURL(url, into: &errors) }
        // Fields first, existence after (the check order of docs/api.md); whether a credential is needed
        // depends on the stored integration, so that check follows the read.
        try errors.ordered(IntegrationInput.fieldOrder).check()
        let current = try await get(projectId: projectId)
        let authType = input.authType ?? current.authType
        let credentialChange: String??  // nil: keep; .some(nil): clear; .some(x): set
        if !authType.needsCredential {
            credentialChange = .some(nil)
        } else if input.authorization != nil || authType != current.authType || current.authorization == nil {
            IntegrationInput.checkAuthorization(input.authorization, for: authType, into: &errors)
            credentialChange = .some(input.authorization)
        } else {
            credentialChange = nil
        }
        try errors.ordered(IntegrationInput.fieldOrder).check()

        let time = now()
        let sealedCredential = credentialChange.map { value in
            value.map { secrets.seal($0, context: Self.credentialContext(current.id)) }
        }
        let updated = try await store.modifyIntegration(projectId: projectId) { record in
            if let url = input.webhookUrl { record.webhookUrl = url }
            record.authType = authType
            if let sealedCredential { record.authorization = sealedCredential }
            record.updatedAt = time
        }
        guard let updated else { throw DomainError.integrationNotFound(projectId: projectId) }
        return updated
    }

    /// E4. The secrets go with the row; undelivered panel events are cancelled and active
    /// conversations closed (`integration_deleted`) in the same transaction.
    package func delete(projectId: String) async throws {
        guard try await store.deleteIntegration(projectId: projectId, at: now()) else {
            throw DomainError.integrationNotFound(projectId: projectId)
        }
    }

    /// The result of E5.
    package struct Regenerated: Sendable {
        package let signingSecret: String
        package let regeneratedAt: Timestamp
    }

    /// E5: a new secret; the one it replaces keeps verifying and signing for `grace` seconds.
    package func regenerateSecret(projectId: String, graceSeconds grace: Int64) async throws -> Regenerated {
        let time = now()
        let secret = SecureRandom.hex(byteCount: 32)
        let updated = try await store.modifyIntegration(projectId: projectId) { [secrets] record in
            let sealed = secrets.seal(secret, context: Self.signingContext(record.id))
            record.previousSigningSecret = grace > 0 ? record.signingSecret : nil
            record.previousSecretExpiresAt = grace > 0 ? time.adding(seconds: grace) : nil
            record.signingSecret = sealed
            record.updatedAt = time
        }
        guard updated != nil else { throw DomainError.integrationNotFound(projectId: projectId) }
        return Regenerated(signingSecret: secret, regeneratedAt: time)
    }

    /// The secrets that currently verify inbound webhooks: the current one, and the previous one
    /// while its grace period lasts. Nil when the project has no integration.
    package func signingSecrets(projectId: String) async throws -> [String]? {
        try await store.integration(projectId: projectId).map(signingSecrets(of:))
    }

    /// The secrets of `record` that verify and sign now (see ``signingSecrets(projectId:)``).
    func signingSecrets(of record: IntegrationRecord) -> [String] {
        var result = [secrets.open(record.signingSecret, context: Self.signingContext(record.id))].compactMap { $0 }
        if let previous = record.previousSigningSecret, previousSecretApplies(record),
            let text = secrets.open(previous, context: Self.signingContext(record.id))
        {
            result.append(text)
        }
        return result
    }

    /// Whether the secret a regeneration replaced still verifies and signs: its grace lasts.
    func previousSecretApplies(_ record: IntegrationRecord) -> Bool {
        record.previousSecretExpiresAt.map { now() < $0 } ?? false
    }

    private func checkURL(_ text: String, into errors: inout ValidationErrors) async {
        do {
            _ = try await destinationGuard.validate(text)
        } catch {
            errors.add("webhookUrl", error.text)
        }
    }

    static func signingContext(_ integrationId: String) -> String { "integration:\(integrationId):signingSecret" }
    static func credentialContext(_ integrationId: String) -> String { "integration:\(integrationId):authorization" }
}
