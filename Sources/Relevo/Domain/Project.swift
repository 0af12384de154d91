/// A tenant. Its id is the `projectId` of paths, `project_id` of payloads and `brainId` of responses.
package struct Project: Sendable, Equatable {
    package let id: String
    package let name: String
    package let createdAt: Timestamp

    package init(id: String, name: String, createdAt: Timestamp) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }

    /// Ids a project cannot have although they follow the id rule: `webhook` is the panel webhook's
    /// path (`/v1/external-support/webhook`), and `.` and `..` are removed from paths by HTTP clients,
    /// so a project with one of them could never reach its own integration.
    package static let reservedIds = ["webhook", ".", ".."]
}

/// An API key as stored: only its SHA-256 hash, never the key (§1.5).
package struct APIKeyRecord: Sendable, Equatable {
    /// A package handle for listing and revoking without showing the key.
    package let id: String
    package let projectId: String
    package let hash: String
    package let createdAt: Timestamp
    package var revokedAt: Timestamp?

    package init(id: String, projectId: String, hash: String, createdAt: Timestamp, revokedAt: Timestamp? = nil) {
        self.id = id
        self.projectId = projectId
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
