/// Projects and API keys (§1.5, §10): creation, key issue and revocation, and authentication.
package struct ProjectService: Sendable {
    let store: any RelevoStore
    let now: @Sendable () -> Timestamp

    package init(store: any RelevoStore, now: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.store = store
        self.now = now
    }

    /// A freshly issued key: the only moment its plaintext exists outside the caller's hands.
    package struct IssuedKey: Sendable {
        package let projectId: String
        package let keyId: String
        package let apiKey: String
    }

    /// Creates a project with its first key. `id` defaults to a random one.
    package func createProject(name: String, id: String? = nil) async throws -> IssuedKey {
        let projectId = id ?? Identifier.generate()
        var errors = ValidationErrors()
        if !Identifier.isValid(projectId) { errors.invalidIdentifier("id") }
        if Project.reservedIds.contains(projectId) { errors.reservedIdentifier("id", reserved: Project.reservedIds) }
        if name.isEmpty { errors.required("name") }
        if name.javaScriptLength > 256 { errors.tooLong("name", maximum: 256) }
        errors.refuseNul("name", in: name)
        try errors.check()
        let (record, key) = newKey(projectId: projectId)
        try await store.createProject(Project(id: projectId, name: name, createdAt: now()), firstKey: record)
        return IssuedKey(projectId: projectId, keyId: record.id, apiKey: key)
    }

    /// Creates project `default` when the store has no project yet; nil when it has one (another
    /// instance may have seeded it a moment ago).
    package func seedDefaultProject() async throws -> IssuedKey? {
        let projectId = Identifier.generate()
        let (record, key) = newKey(projectId: projectId)
        guard try await store.createFirstProject(Project(id: projectId, name: "default", createdAt: now()), firstKey: record) else {
            return nil
        }
        return IssuedKey(projectId: projectId, keyId: record.id, apiKey: key)
    }

    /// Issues another key for an existing project.
    package func createKey(projectId: String) async throws -> IssuedKey {
        let (record, key) = newKey(projectId: projectId)
        try await store.addKey(record)
        return IssuedKey(projectId: projectId, keyId: record.id, apiKey: key)
    }

    /// Revokes by key id or by the key itself; effective on the next request.
    package func revokeKey(projectId: String, keyId: String?, apiKey: String?) async throws -> Bool {
        try await store.revokeKey(projectId: projectId, keyId: keyId, hash: apiKey.map(APIKey.hash), at: now())
    }

    /// Succeeds only when `apiKey` is an unrevoked key of `projectId`; every other case is the same 401,
    /// so a caller learns nothing about other projects. Returns the key's hash (the rate-limit bucket).
    @discardableResult
    package func authenticate(apiKey: String?, projectId: String) async throws -> String {
        try await authenticate(apiKey: apiKey, projectId: Optional(projectId)).hash
    }

    /// The key's hash and project, when `apiKey` is an unrevoked key of `projectId` (of any project
    /// when nil); ``DomainError/unauthorized`` otherwise, whatever the reason.
    package func authenticate(apiKey: String?, projectId: String?) async throws -> (hash: String, projectId: String) {
        guard let apiKey, !apiKey.isEmpty, apiKey.utf8.count <= 256 else { throw DomainError.unauthorized }
        let hash = APIKey.hash(apiKey)
        guard let owner = try await store.projectIdForKey(hash: hash), projectId == nil || owner == projectId else {
            throw DomainError.unauthorized
        }
        return (hash, owner)
    }

    /// The project of an authenticated request.
    package func project(id: String) async throws -> Project {
        guard let project = try await store.project(id: id) else { throw DomainError.unauthorized }  // deleted meanwhile
        return project
    }

    private func newKey(projectId: String) -> (APIKeyRecord, String) {
        let key = APIKey.generate()
        let record = APIKeyRecord(
            id: "key_" + SecureRandom.hex(byteCount: 8), projectId: projectId,
            hash: APIKey.hash(key), createdAt: now())
        return (record, key)
    }
}
