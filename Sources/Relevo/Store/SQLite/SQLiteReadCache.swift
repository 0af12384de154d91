import Synchronization

/// Answers of the request path's two lookups (key → project, project → integration), kept until
/// the next commit to the database by anyone (see ``SQLiteChangeStamp``).
///
/// Without it every authenticated request pays two SQLite read transactions (file locks included);
/// with it, a 48-byte memory read and a dictionary lookup. Correctness does not depend on expiry: an entry
/// is only used while the stamp read *before* it was fetched is still current.
final class SQLiteReadCache: Sendable {
    private struct State {
        var stamp: SQLiteChangeStamp.Value?
        var keyProjects: [String: String?] = [:]
        var integrations: [String: IntegrationRecord?] = [:]
    }

    /// Bound on entries per map; past it the map is simply emptied.
    static let capacity = 50_000
    private let changes: SQLiteChangeStamp
    private let state = Mutex(State())

    init(changes: SQLiteChangeStamp) { self.changes = changes }

    /// The project of an unrevoked key hash, from cache or from `load`.
    func projectForKey(_ hash: String, load: () throws -> String?) rethrows -> String? {
        try lookup(\.keyProjects, hash, load: load)
    }

    /// The integration of a project, from cache or from `load`.
    func integration(_ projectId: String, load: () throws -> IntegrationRecord?) rethrows -> IntegrationRecord? {
        try lookup(\.integrations, projectId, load: load)
    }

    private func lookup<Value: Sendable>(
        _ map: WritableKeyPath<State, [String: Value?]>, _ key: String, load: () throws -> Value?
    ) rethrows -> Value? {
        guard let stamp = changes.current() else { return try load() }
        let hit: Value?? = state.withLock { state in
            if state.stamp != stamp {
                state = State(stamp: stamp)
                return nil
            }
            return state[keyPath: map][key]
        }
        if let hit { return hit }
        let value = try load()
        state.withLock { state in
            guard state.stamp == stamp else { return }  // a commit happened meanwhile: do not keep it
            if state[keyPath: map].count >= Self.capacity { state[keyPath: map].removeAll() }
            state[keyPath: map][key] = .some(value)
        }
        return value
    }
}
