import ServiceLifecycle

/// Projects and their API keys. Implemented by every backend; behaviour is pinned by the store
/// contract test suite, which runs against each of them.
package protocol ProjectStore: Sendable {
    /// Creates a project together with its first key, atomically. Throws ``StoreError/conflict`` if the id is taken.
    func createProject(_ project: Project, firstKey: APIKeyRecord) async throws
    /// Creates the project and its key only when the store has no project at all; false when it has one.
    /// Instances starting together on an empty shared database seed one project, not one each.
    func createFirstProject(_ project: Project, firstKey: APIKeyRecord) async throws -> Bool
    /// How many projects exist (`serve` seeds `default` when there are none).
    func projectCount() async throws -> Int
    /// Adds a key to an existing project. Throws ``StoreError/notFound`` when the project does not exist.
    func addKey(_ key: APIKeyRecord) async throws
    /// Marks a key revoked at `time`; false when no such unrevoked key of that project exists.
    func revokeKey(projectId: String, keyId: String?, hash: String?, at time: Timestamp) async throws -> Bool
    /// Keys of a project, revoked ones included, oldest first.
    func keys(projectId: String) async throws -> [APIKeyRecord]
    /// The project an unrevoked key with this hash belongs to. Called on every request: must be an index lookup.
    func projectIdForKey(hash: String) async throws -> String?
    func project(id: String) async throws -> Project?
}

/// The panel integration of each project (§2).
package protocol IntegrationStore: Sendable {
    /// The project's integration, if any.
    func integration(projectId: String) async throws -> IntegrationRecord?
    /// The integration saved last, of any project (``RelevoApp/verifyMasterKey()`` opens its secret).
    func latestIntegration() async throws -> IntegrationRecord?
    /// Inserts a new integration. Throws ``StoreError/conflict`` when the project already has one.
    func insertIntegration(_ integration: IntegrationRecord) async throws
    /// Reads, changes and writes the integration in one transaction; nil when there is none.
    func modifyIntegration(
        projectId: String, _ change: @escaping @Sendable (inout IntegrationRecord) throws -> Void
    ) async throws -> IntegrationRecord?
    /// Deletes the integration (and with it the secrets), cancels the project's undelivered panel
    /// events and closes its active conversations with reason `integration_deleted`, in one
    /// transaction; false when there was no integration.
    func deleteIntegration(projectId: String, at time: Timestamp) async throws -> Bool
}

/// Everything Relevo keeps, behind one value that the app is built with.
package protocol RelevoStore: ProjectStore, IntegrationStore, ConversationStore, DeliveryStore, WebChatStore {
    /// What must run in the background while the store is used (`serve` runs it in its service group).
    var services: [any Service] { get }
    /// Runs ``services`` on their own until ``close()`` (the CLI, the tests), once the store is ready.
    func start() async throws
    /// Returns once the store can take work: connected, migrations applied.
    func ready() async throws
    /// Answers when the store is usable (`GET /health`).
    func ping() async throws
    /// Releases connections; the store is unusable afterwards.
    func close() async throws
}

/// Failures a caller can act on; anything else a store throws is an internal error.
package enum StoreError: Error, Equatable, Sendable {
    /// A row with the same identity exists.
    case conflict
    /// A row the operation needs does not exist.
    case notFound
    /// The storage cannot take the operation now (a full disk, an I/O error, a database that does not
    /// answer); the same call may succeed later.
    case unavailable
}
