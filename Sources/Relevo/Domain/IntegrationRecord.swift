/// One project's panel integration as stored.
///
/// Secrets are held sealed (``SealedSecret``): the store never sees plaintext, and the read path
/// of E2 never has to decrypt anything.
public struct IntegrationRecord: Sendable, Equatable {
    public var id: String
    public var projectId: String
    public var webhookUrl: String
    public var authType: AuthType
    /// The panel credential, absent for `no_auth`.
    public var authorization: SealedSecret?
    public var signingSecret: SealedSecret
    /// The secret replaced by the last regeneration, still accepted inbound until `previousSecretExpiresAt`.
    public var previousSigningSecret: SealedSecret?
    public var previousSecretExpiresAt: Timestamp?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
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

    /// The public view (E2, E3): never the secret, never the credential.
    var publicJSON: JSONValue {
        .members([
            "id": .string(id),
            "brainId": .string(projectId),
            "webhookUrl": .string(webhookUrl),
            "authType": .string(authType.rawValue),
            "createdAt": .string(createdAt.iso8601),
            "updatedAt": .string(updatedAt.iso8601),
        ])
    }
}
