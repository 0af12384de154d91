import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The answers of the lookups nearly every request and attempt makes — key → project, project →
/// integration, and a channel message's context (its bot, user, room and active conversation) —
/// kept in memory until the database says they changed.
///
/// Without it each is a statement: together, a third of the statements per delivered event. Every
/// change to `api_keys`, `integrations`, `bots` or `end_users`, by any instance, the CLI or an
/// operator's own SQL, sends a `NOTIFY` on ``channel`` when it commits (triggers of migrations 009
/// and 011, whose payload names the table); this instance listens on its own connection and drops
/// that table's answers when one arrives. Its own changes drop them at once, after their commit
/// (``changed(_:)``), so that what it answers next reflects them.
///
/// A context is kept only while it has an active conversation, and that conversation is checked
/// where it counts: the write of the message finds it active, under a lock that holds its close
/// off, or writes nothing (``forgetConversation(_:)`` then drops it, and the message is routed
/// on a fresh read). A room without one is read every time, since a start by another instance
/// must reach the very next message. Rooms never change once written.
///
/// Nothing is kept while the listening connection is down: answers are then read every time, as
/// they are kept only between the `LISTEN` having taken effect and that connection's end. An answer
/// read while a change was announced is used once and not kept. A change made through another
/// instance reaches this one as fast as PostgreSQL delivers its notification, which it sends at the
/// commit; ``lifetime`` bounds how long an answer is kept should a notification ever not come.
final class PostgresReadCache: Service, Sendable {
    /// The tables whose rows the cache holds, as the trigger names them.
    enum Table: String, Sendable, CaseIterable {
        case keys = "api_keys"
        case integrations
        case bots
        case users = "end_users"
    }

    private struct Entry<Value> {
        let value: Value
        let expires: ContinuousClock.Instant
    }

    private struct State {
        var listening = false
        /// Moves with every change and every start or end of listening: an answer whose read began
        /// under another generation may be out of date already, and is not kept.
        var generation: UInt64 = 0
        var keyProjects: [String: Entry<String?>] = [:]
        var integrations: [String: Entry<IntegrationRecord?>] = [:]
        /// By ``contextKey(projectId:botId:userId:)``.
        var contexts: [String: Entry<ChannelMessageContext>] = [:]

        mutating func drop(_ tables: [Table]) {
            generation &+= 1
            for table in tables {
                switch table {
                case .keys: keyProjects = [:]
                case .integrations: integrations = [:]
                case .bots, .users: contexts = [:]
                }
            }
        }
    }

    /// The NOTIFY channel of migration 009's triggers.
    static let channel = "relevo_access"
    /// Bound on entries per map; past it the map is simply emptied.
    static let capacity = 10_000
    /// The longest an answer is kept.
    static let lifetime: Duration = .seconds(10)

    private let state = Mutex(State())
    private let client: PostgresClient
    private let logger: Logger

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The project of an unrevoked key hash, from memory or from `load`.
    func projectForKey(_ hash: String, load: () async throws -> String?) async throws -> String? {
        try await lookup(\.keyProjects, hash, load: load)
    }

    /// The integration of a project, from memory or from `load`.
    func integration(_ projectId: String, load: () async throws -> IntegrationRecord?) async throws -> IntegrationRecord? {
        try await lookup(\.integrations, projectId, load: load)
    }

    /// The context of a channel message from memory or from `load`; kept only when it has a bot, a
    /// user, a room and an active conversation.
    func context(
        projectId: String, botId: String, userId: String, load: () async throws -> ChannelMessageContext
    ) async throws -> ChannelMessageContext {
        try await lookup(\.contexts, Self.contextKey(projectId: projectId, botId: botId, userId: userId), load: load) { context in
            context.bot != nil && context.user != nil && context.room != nil && context.activeConversation != nil
        }
    }

    private static func contextKey(projectId: String, botId: String, userId: String) -> String {
        "\(projectId)\u{0}\(botId)\u{0}\(userId)"
    }

    /// Drops the contexts whose active conversation is `conversationId`: it was found closed, or this
    /// instance closed it.
    func forgetConversation(_ conversationId: String) {
        state.withLock { state in
            state.generation &+= 1
            state.contexts = state.contexts.filter { $0.value.value.activeConversation?.id != conversationId }
        }
    }

    /// Drops what `tables` held: after this instance committed a change to them, or when the
    /// database announced one.
    func changed(_ tables: [Table]) {
        state.withLock { $0.drop(tables) }
    }

    private func lookup<Value: Sendable>(
        _ map: WritableKeyPath<State, [String: Entry<Value>]> & Sendable, _ key: String, load: () async throws -> Value,
        keeping: (Value) -> Bool = { _ in true }
    ) async throws -> Value {
        let now = ContinuousClock.now
        let (found, generation) = state.withLock { state -> (Value?, UInt64?) in
            guard state.listening else { return (nil, nil) }
            if let entry = state[keyPath: map][key], entry.expires > now { return (entry.value, nil) }
            return (nil, state.generation)
        }
        if let found { return found }
        let value = try await load()
        if let generation, keeping(value) {
            state.withLock { state in
                guard state.listening, state.generation == generation else { return }
                if state[keyPath: map].count >= Self.capacity { state[keyPath: map].removeAll() }
                state[keyPath: map][key] = Entry(value: value, expires: now + Self.lifetime)
            }
        }
        return value
    }

    /// Listens for changes on a connection of its own. Whatever changed while nobody listened is
    /// dropped with the rest when listening starts.
    func run() async {
        await ChannelListener(client: client, channel: Self.channel, logger: logger, purpose: "key, integration, bot and user changes").run(
            started: { self.listening(true) }, ended: { self.listening(false) }
        ) { notification in
            self.changed(Table(rawValue: notification.payload).map { [$0] } ?? Table.allCases)
        }
    }

    private func listening(_ listening: Bool) {
        state.withLock { state in
            state.drop(Table.allCases)
            state.listening = listening
        }
    }
}
