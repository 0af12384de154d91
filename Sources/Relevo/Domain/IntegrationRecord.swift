/// One project's panel integration as stored.
///
/// Secrets are held sealed (``SealedSecret``): the store never sees plaintext, and the read path
/// of E2 never has to decrypt anything.
package struct IntegrationRecord: Sendable, Equatable {
    package var id: String
    package var projectId: String
    package var webhookUrl: String
    package var authType: AuthType
    /// The panel credential, absent for `no_auth`.
    package var authorization: SealedSecret?
    package var signingSecret: SealedSecret
    /// The secret replaced by the last regeneration, still accepted inbound until `previousSecretExpiresAt`.
    package var previousSigningSecret: SealedSecret?
    package var previousSecretExpiresAt: Timestamp?
    package var createdAt: Timestamp
    package var updatedAt: Timestamp

    package init(
        id: String, projectId: String, webhookUrl: String, authType: AuthType, authorization: SealedSecret?,
        signingSecret: SealedSecret, previousSigningSecret: SealedSecret? = nil,
        previousSecretExpiresAt: Timestamp? = nil, createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.projectId = projectId
        self.webhookUrl = webhookUrl
        self.authType = authType
        self.authorization = authorization
        self.signingSecret = signingSecret
        self.previousSigningSecret = previousSigningSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
