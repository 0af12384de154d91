import GRDB
import Synchronization

/// Answers of the request path's two lookups (key → project, project → integration), kept until
/// a commit that may have changed them.
///
/// Without it every authenticated request and every delivery attempt pays a SQLite read
/// transaction, and under load a cold one: a read connection drops its whole page cache whenever
/// another connection committed. With it, a 48-byte memory read and a dictionary lookup.
///
/// Entries live under the stamp of the last commit (``SQLiteChangeStamp``); a reader that sees
/// another stamp drops them all. Most commits are this server's own group commits of messages and
/// events, which change nothing cached: after such a batch the writer moves the entries to the new
/// stamp instead (``writerWillBegin(_:)`` and ``writerDidCommit(_:)``), when it can prove that no
/// other process committed since the entries' stamp and that the batch did not touch `projects`,
/// `api_keys` or `integrations`. Any other commit, the CLI revoking a key say, still drops them.
final class SQLiteReadCache: Sendable {
    private struct State {
        var stamp: SQLiteChangeStamp.Value?
        var keyProjects: [String: String?] = [:]
        var integrations: [String: IntegrationRecord?] = [:]
    }

    /// What the writer knows between two of its batches (only the writer's thread touches it).
    private struct WriterState {
        /// `PRAGMA data_version` of the writer connection after its last commit: it moves only when
        /// another connection commits.
        var version: Int64?
        /// The stamp read right after the writer's last commit, when that commit was its own alone.
        var stamp: SQLiteChangeStamp.Value?
    }

    /// Bound on entries per map; past it the map is simply emptied.
    static let capacity = 50_000
    /// The tables whose rows are cached.
    static let cachedTables: Set<String> = ["projects", "api_keys", "integrations"]
    private let changes: SQLiteChangeStamp
    private let state = Mutex(State())
    private let writer = Mutex(WriterState())
    let cachedTablesWatch = CachedTablesWatch()

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

    /// On the writer connection, right before it begins a batch transaction.
    func writerWillBegin(_ db: Database) throws {
        let version = try Self.dataVersion(db)
        writer.withLock { writer in
            // Another connection committed since the writer's last batch: its stamp proves nothing.
            if writer.version != version { writer.stamp = nil }
            writer.version = version
        }
        cachedTablesWatch.reset()
    }

    /// On the writer connection, right after the batch committed. The stamp is read before the data
    /// version: a commit by another connection in between moves the version, and the entries stay
    /// under the old stamp, to be dropped by the next reader.
    func writerDidCommit(_ db: Database) throws {
        let stamp = changes.current()
        let version = try Self.dataVersion(db)
        let touched = cachedTablesWatch.touched
        let previous: SQLiteChangeStamp.Value? = writer.withLock { writer in
            defer {
                writer.stamp = writer.version == version ? stamp : nil
                writer.version = version
            }
            return writer.version == version ? writer.stamp : nil
        }
        guard let stamp, let previous, !touched else { return }
        state.withLock { state in
            if state.stamp == previous { state.stamp = stamp }
        }
    }

    private static func dataVersion(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
    }
}

/// Sees, on the writer connection, whether a transaction changed a row of a cached table
/// (GRDB's transaction observer: SQLite reports every changed row of the tables it observes).
final class CachedTablesWatch: TransactionObserver, @unchecked Sendable {
    // Only used on the writer connection's thread (GRDB calls observers there; the queue resets it there).
    private(set) var touched = false

    func reset() { touched = false }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        SQLiteReadCache.cachedTables.contains(eventKind.tableName)
    }

    func databaseDidChange(with event: DatabaseEvent) { touched = true }
    func databaseDidCommit(_ db: Database) {}
    func databaseDidRollback(_ db: Database) {}
}
