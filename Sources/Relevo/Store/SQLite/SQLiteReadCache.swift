import GRDB
import Synchronization

/// Answers of the hot path's lookups, kept until a commit that may have changed them: key →
/// project (every authenticated request), project → integration (every attempt), and what a
/// channel message reads before it writes (bot, user, room, active conversation).
///
/// Without it each of these pays a SQLite read transaction, and under load a cold one: a read
/// connection drops its whole page cache whenever another connection committed. With it, a 48-byte
/// memory read and a dictionary lookup.
///
/// Entries live under the stamp of the last commit (``SQLiteChangeStamp``); a reader that sees
/// another stamp drops them all. Most commits are this server's own group commits of messages and
/// events, which change nothing cached: after such a batch the writer moves the entries to the new
/// stamp instead (``writerWillBegin(_:)`` and ``writerDidCommit(_:)``), when it can prove that no
/// other process committed since the entries' stamp, and drops only the maps whose tables the batch
/// changed. Any other commit, the CLI revoking a key say, still drops everything.
final class SQLiteReadCache: Sendable {
    private struct State {
        var stamp: SQLiteChangeStamp.Value?
        var keyProjects: [String: String?] = [:]
        var integrations: [String: IntegrationRecord?] = [:]
        var contexts: [ContextKey: ChannelMessageContext?] = [:]
        /// The writer is in a batch: a new stamp may be its own commit, about to be vouched for.
        var writerBusy = false

        /// Empties the maps that hold rows of `tables`.
        mutating func drop(_ tables: Set<String>) {
            if !tables.isDisjoint(with: SQLiteReadCache.keyProjectTables) { keyProjects = [:] }
            if !tables.isDisjoint(with: SQLiteReadCache.integrationTables) { integrations = [:] }
            if !tables.isDisjoint(with: SQLiteReadCache.contextTables) { contexts = [:] }
        }
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
    static let capacity = 10_000
    /// The tables each map holds rows of, and all of them.
    static let keyProjectTables: Set<String> = ["projects", "api_keys"]
    static let integrationTables: Set<String> = ["integrations"]
    static let contextTables: Set<String> = ["bots", "end_users", "rooms", "conversations"]
    static let cachedTables = keyProjectTables.union(integrationTables).union(contextTables)
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

    /// Whose channel message: its three ids as they are (joined into one string, two allocations per message).
    struct ContextKey: Hashable {
        let projectId: String
        let botId: String
        let userId: String
    }

    /// What a channel message of (project, bot, user) reads, from cache or from `load`.
    func channelMessageContext(_ key: ContextKey, load: () throws -> ChannelMessageContext) rethrows -> ChannelMessageContext {
        // `load` never answers nil, so neither does the lookup.
        try lookup(\.contexts, key, load: load)!
    }

    /// Inlined so that each caller's key path becomes a direct field access (a key path applied at
    /// run time is a cost on every request).
    @inline(__always)
    private func lookup<Key: Hashable, Value: Sendable>(
        _ map: WritableKeyPath<State, [Key: Value?]>, _ key: Key, load: () throws -> Value?
    ) rethrows -> Value? {
        guard let stamp = changes.current() else { return try load() }
        let found: Found<Value> = state.withLock { state in
            if state.stamp != stamp {
                // While the writer is in a batch the new stamp is most likely its commit, whose end
                // moves the entries along: read this once without dropping them. Otherwise another
                // process (or an unvouched commit) changed the file: drop everything.
                if state.writerBusy { return .bypass }
                state = State(stamp: stamp)
                return .miss
            }
            return state[keyPath: map][key].map(Found.hit) ?? .miss
        }
        switch found {
        case .hit(let value): return value
        case .bypass: return try load()
        case .miss: break
        }
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
        state.withLock { $0.writerBusy = true }
        let version = try Self.dataVersion(db)
        writer.withLock { writer in
            // Another connection committed since the writer's last batch: its stamp proves nothing.
            if writer.version != version { writer.stamp = nil }
            writer.version = version
        }
        cachedTablesWatch.reset()
    }

    /// On the writer connection, when a batch ended without committing.
    func writerDidFail() {
        state.withLock { $0.writerBusy = false }
    }

    /// On the writer connection, right after the batch committed. The stamp is read before the data
    /// version: a commit by another connection in between moves the version, and the entries stay
    /// under the old stamp, to be dropped by the next reader. Never throws: the batch is durable
    /// whatever happens here; a version that cannot be read only means nothing is vouched for.
    func writerDidCommit(_ db: Database) {
        let stamp = changes.current()
        let version = try? Self.dataVersion(db)
        let touched = cachedTablesWatch.touchedTables
        let previous: SQLiteChangeStamp.Value? = writer.withLock { writer in
            defer {
                writer.stamp = writer.version == version ? stamp : nil
                writer.version = version
            }
            return writer.version == version ? writer.stamp : nil
        }
        state.withLock { state in
            state.writerBusy = false
            guard let stamp, let previous, state.stamp == previous else { return }
            state.stamp = stamp
            state.drop(touched)
        }
    }

    private static func dataVersion(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
    }
}

/// What a lookup found in the cache.
private enum Found<Value> {
    case hit(Value?)
    case miss
    /// Not usable now, nor to be dropped: read without keeping the answer.
    case bypass
}

/// Sees, on the writer connection, which cached tables a transaction changed rows of (GRDB's
/// transaction observer: SQLite reports every changed row of the tables it observes).
final class CachedTablesWatch: TransactionObserver, @unchecked Sendable {
    // Only used on the writer connection's thread (GRDB calls observers there; the queue resets it there).
    private(set) var touchedTables: Set<String> = []

    func reset() { touchedTables = [] }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        SQLiteReadCache.cachedTables.contains(eventKind.tableName)
    }

    func databaseDidChange(with event: DatabaseEvent) { touchedTables.insert(event.tableName) }
    func databaseDidCommit(_ db: Database) {}
    func databaseDidRollback(_ db: Database) {}
}
