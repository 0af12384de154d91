/// A tenant. Its id is the `projectId` of paths, `project_id` of payloads and `brainId` of responses.
public struct Project: Sendable, Equatable {
    public let id: String
    public let name: String
    public let createdAt: Timestamp

    public init(id: String, name: String, createdAt: Timestamp) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }

    /// Ids a project cannot have although they follow the id rule: `webhook` is the panel webhook's
    /// path (`/v1/external-support/webhook`), and `.` and `..` are removed from paths by HTTP clients,
    /// so a project with one of them could never reach its own integration.
    public static let reservedIds = ["webhook", ".", ".."]
}

/// An API key as stored: only its SHA-256 hash, never the key (§1.5).
public struct APIKeyRecord: Sendable, Equatable {
    /// A public handle for listing and revoking without showing the key.
    public let id: String
    public let projectId: String
    public let hash: String
    public let createdAt: Timestamp
    public var revokedAt: Timestamp?

    public init(id: String, projectId: String, hash: String, createdAt: Timestamp, revokedAt: Timestamp? = nil) {
        self.id = id
        self.projectId = projectId
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
