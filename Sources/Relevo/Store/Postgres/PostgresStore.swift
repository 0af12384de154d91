import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The shared store: one PostgreSQL database that several Relevo instances use at once.
///
/// Unlike SQLite, nothing is kept in memory that another instance would need: claims are leases in
/// the `events` table (`FOR UPDATE SKIP LOCKED`), and wake-ups travel through `LISTEN/NOTIFY`, as do
/// the changes that empty the cache of keys, integrations and message contexts
/// (``PostgresReadCache``).
///
/// Its background work (the connection pool, the LISTEN loops, the announcers, the vacuum of `heads`) is a list of
/// ``services``: `serve` runs them in its service group; the CLI and the tests run them with
/// ``start()`` until ``close()``. Nothing reaches the database before ``ready()`` has connected and
/// applied the migrations.
package final class PostgresStore: RelevoStore {
    let client: PostgresClient
    let logger: Logger
    let signal = WakeUpSignal()
    /// Wakes the other instances after commits that make events due (``announceDue()``).
    private let announcer: DueAnnouncer
    private let listener: WakeUpListener
    /// Carries web chat room changes between instances.
    private let transcriptAnnouncer: TranscriptAnnouncer
    package let transcripts = TranscriptSignal()
    /// Gathers concurrent settlements into one statement each (``finishAttempt(_:outcome:)``).
    let settlements = StatementBatcher<Settlement, Bool>(limit: 256)
    /// Gathers concurrent client-keyed writes into one statement each (``recordOnce(_:)``); two
    /// writes of one key never share a batch, so that the second finds the first's answer.
    let records = StatementBatcher<IdempotentWrite, IdempotentWriteOutcome>(limit: 128) { "\($0.projectId)\u{0}\($0.scope)\u{0}\($0.key)" }
    /// Gathers concurrent conversation starts into one transaction; two starts of one room never share one.
    let starts = StatementBatcher<StartWrite, Void>(limit: 64) { "\($0.conversation.projectId)\u{0}\($0.conversation.roomId)" }
    /// Gathers concurrent conversation closes into one transaction; two closes of one conversation never share one.
    let conversationCloses = StatementBatcher<CloseWrite, Bool>(limit: 64) { "\($0.write.projectId)\u{0}\($0.write.conversationId)" }
    /// Gathers concurrent redeliveries into one transaction; two of one event never share one.
    let redeliveries = StatementBatcher<Redelivery, RedeliveryOutcome>(limit: 64) { "\($0.projectId)\u{0}\($0.id)" }
    /// The reads every request or delivery makes, gathered like the writes, in two lanes: a read
    /// that comes while a batch runs starts at once in the other rather than waiting a round trip.
    let keyReads = StatementBatcher<String, String?>(limit: 256, lanes: 2)
    let contextReads = StatementBatcher<ContextKey, ChannelMessageContext>(limit: 256, lanes: 2)
    let integrationReads = StatementBatcher<String, IntegrationRecord?>(limit: 256, lanes: 2)
    /// Key → project and project → integration, until the database announces a change.
    let readCache: PostgresReadCache
    /// When the next retry comes due, for the dispatcher's sleep.
    let nextDue = NextDueMemo()
    /// Vacuums `heads` while events are settled, faster than autovacuum would.
    let headsVacuum: HeadsVacuum
    /// Answers the work on a connection that closes under it at once.
    private let closes = ConnectionCloseWatch()
    /// Written into the leases this process takes, so that only the lease holder settles an event.
    let instanceId: String
    private let connectTimeout: Duration
    private let host: String
    private let port: Int
    /// The one connection check and migration run, shared by every caller of ``ready()``.
    private let preparation = Mutex<Task<Void, any Error>?>(nil)
    /// The services, when ``start()`` runs them outside a service group.
    private let standalone = Mutex<Task<Void, Never>?>(nil)

    /// The NOTIFY channel commits that make events due are announced on (after they commit).
    static let eventsChannel = "relevo_events"

    /// A store on `url` (`postgres://user:password@host:port/database?sslmode=…`); it connects once
    /// its ``services`` run.
    package init(url: String, logger: Logger, connectTimeout: Duration = .seconds(15)) throws {
        let configuration = try PostgresURL.configuration(url)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.connectTimeout = connectTimeout
        host = configuration.host ?? "?"
        port = configuration.port ?? 5432
        let instanceId = Identifier.generate()
        self.instanceId = instanceId
        announcer = DueAnnouncer(client: client, channel: Self.eventsChannel, instanceId: instanceId)
        listener = WakeUpListener(client: client, channel: Self.eventsChannel, instanceId: instanceId, signal: signal, logger: logger)
        transcriptAnnouncer = TranscriptAnnouncer(client: client, transcripts: transcripts, logger: logger)
        readCache = PostgresReadCache(client: client, logger: logger)
        headsVacuum = HeadsVacuum(client: client)
        transcripts.relay { [weak transcriptAnnouncer] key in transcriptAnnouncer?.announce(key) }
    }

    /// A store whose services run until ``close()``, connected and migrated (the CLI and the tests).
    /// With `migrating` false it only connects: the database is read as it is (a copy's source).
    package static func open(
        url: String, logger: Logger, connectTimeout: Duration = .seconds(15), migrating: Bool = true
    ) async throws -> PostgresStore {
        let store = try PostgresStore(url: url, logger: logger, connectTimeout: connectTimeout)
        do {
            try await store.start(migrating: migrating)
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }

    package var services: [any Service] { [client, listener, announcer, transcriptAnnouncer, readCache, headsVacuum] }

    package func start() async throws {
        try await start(migrating: true)
    }

    /// ``start()``; with `migrating` false it only connects, so that a database is read as it is
    /// (the source of `relevo copy`).
    package func start(migrating: Bool) async throws {
        let services = services
        standalone.withLock { running in
            guard running == nil else { return }
            running = Task {
                await withDiscardingTaskGroup { group in
                    for service in services { group.addTask { try? await service.run() } }
                }
            }
        }
        if migrating { try await ready() } else { try await connect() }
    }

    /// Connects (failing after `connectTimeout` rather than waiting forever) and applies pending
    /// migrations, once; later calls wait for that first one.
    package func ready() async throws {
        let task = preparation.withLock { preparation in
            if let preparation { return preparation }
            let task = Task { [self] in
                try await connect()
                try await PostgresMigrations.apply(client, logger: logger)
            }
            preparation = task
            return task
        }
        try await task.value
    }

    /// One query answered within `connectTimeout`.
    private func connect() async throws {
        let (client, connectTimeout, host, port) = (client, connectTimeout, host, port)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await client.query("SELECT 1", logger: PostgresStore.quiet).collect() }
            group.addTask {
                try await Task.sleep(for: connectTimeout)
                throw Unreachable(host: host, port: port, timeout: connectTimeout)
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// No connection to the database could be made at start.
    package struct Unreachable: Error, CustomStringConvertible {
        let host: String
        let port: Int
        let timeout: Duration

        package var description: String {
            "cannot connect to PostgreSQL at \(host):\(port) within \(timeout.components.seconds) s; "
                + "the log lines above say why (refused, authentication, unknown database, TLS)"
        }
    }

    package func ping() async throws {
        _ = try await rows("SELECT 1")
    }

    /// Stops the services ``start()`` runs; under a service group, the group stops them.
    package func close() async throws {
        let running = standalone.withLock { running in
            defer { running = nil }
            return running
        }
        running?.cancel()
        await running?.value
    }

    /// Runs `body` in a transaction, retried when PostgreSQL picked it as a deadlock or serialization
    /// victim; a unique violation becomes ``StoreError/conflict``, an error thrown by `body` is rethrown as is.
    @discardableResult
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await retryingVictims {
            try await withConnection { connection in
                try await connection.withTransaction(logger: Self.quiet) { connection in try await body(connection) }
            }
        }
    }

    /// ``transaction(_:)`` for a change to rows the read cache holds: this instance drops its answers
    /// from `table` once the transaction has ended, so that its next request sees the change (the
    /// other instances hear of it through the trigger's `NOTIFY`).
    @discardableResult
    func transaction<T: Sendable>(
        changing table: PostgresReadCache.Table, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        defer { readCache.changed([table]) }
        return try await transaction(body)
    }

    /// One statement that is a write of several steps (a function or procedure of the schema, see
    /// migration 002): its own transaction, retried and mapped like ``transaction(_:)``; its rows.
    /// PostgreSQL sends a statement's rows before it commits it: a caller that must answer only after
    /// the commit calls a procedure that commits before it answers (`relevo_record_committed`).
    func write(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await retryingVictims {
            try await withConnection { connection in try await connection.rows(query) }
        }
    }

    /// `item`'s answer, run with the others of its kind that come meanwhile (`batcher`) by `many`. A
    /// batch that fails for another reason than the database being away is run again one item at a
    /// time, so that an item PostgreSQL refuses fails alone and never its neighbours.
    func batched<Item, Answer>(
        _ item: Item, in batcher: StatementBatcher<Item, Answer>, many: @escaping @Sendable ([Item]) async throws -> [Answer]
    ) async throws -> Answer {
        try await batcher.submit(item) { batch in
            if batch.count == 1 { return [.success(try await many(batch)[0])] }
            do {
                return try await many(batch).map { .success($0) }
            } catch StoreError.unavailable {
                throw StoreError.unavailable
            } catch {
                var answers: [Result<Answer, any Error>] = []
                for item in batch {
                    do { answers.append(.success(try await many([item])[0])) } catch { answers.append(.failure(error)) }
                }
                return answers
            }
        }
    }

    /// The rows of a batched statement, each numbered in `column` from 1 in the order of the items:
    /// each item's row, or nil.
    static func byNumber(_ rows: [PostgresRandomAccessRow], count: Int, column: String = "n") throws -> [PostgresRandomAccessRow?] {
        var found = [PostgresRandomAccessRow?](repeating: nil, count: count)
        for row in rows {
            let number = try row.value(column, as: Int64.self)
            guard number >= 1, number <= count else { throw StoreRowError(column: column, problem: "no item \(number)") }
            found[Int(number) - 1] = row
        }
        return found
    }

    /// Runs `body` again when PostgreSQL picked it as a deadlock or serialization victim (at most five
    /// times); a unique violation becomes ``StoreError/conflict``.
    private func retryingVictims<T>(_ body: () async throws -> T) async throws -> T {
        var retries = 0
        while true {
            do {
                return try await body()
            } catch {
                let failure = Self.underlying(error)
                let state = (failure as? PSQLError)?.serverInfo?[.sqlState]
                if state == "23505" { throw StoreError.conflict }
                guard state == "40P01" || state == "40001", retries < 5 else { throw failure }
                retries += 1
            }
        }
    }

    /// One statement outside a transaction; its rows.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await withConnection { connection in try await connection.rows(query) }
    }

    /// How long a request waits for a pooled connection before it fails: while the database is down,
    /// requests (and `/health`) answer with an error instead of hanging.
    static let connectionWait: Duration = .seconds(5)

    /// The longest Relevo waits for the work on one connection (its statements take milliseconds;
    /// retention's batches, well under a second).
    static let workWait: Duration = .seconds(20)

    /// Runs `body` on a pooled connection, failing with ``StoreError/unavailable`` when none is handed
    /// out in ``connectionWait`` (only the wait for a connection is bounded, never the work on it) or
    /// when the connection fails under it (see ``meansUnavailable(_:)``).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await withBoundedWait(body)
        } catch {
            if Self.meansUnavailable(Self.underlying(error)) { throw StoreError.unavailable }
            throw error
        }
    }

    /// Whether `error` says PostgreSQL cannot be reached or cannot take work now, rather than that the
    /// statement was wrong: no connection in time, a connection lost or refused, or a server error
    /// of the classes connection exception (08), insufficient resources (53, a full disk among them),
    /// operator intervention (57: shutting down, starting up) or system error (58).
    static func meansUnavailable(_ error: any Error) -> Bool {
        if error is Unavailable { return true }
        guard let failure = error as? PSQLError else { return false }
        guard failure.code == .server else {
            return [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed].contains(failure.code)
        }
        let state = failure.serverInfo?[.sqlState] ?? ""
        return ["08", "53", "57", "58"].contains(String(state.prefix(2)))
    }

    /// The lease runs in a task of its own, raced against ``connectionWait``: when the wait is over
    /// first, the caller gets ``Unavailable`` at once and the lease, should it still come, gives its
    /// connection back untouched. Work on a connection that has not answered after ``workWait``
    /// closes that connection and answers ``Unavailable``: around a database restart a statement
    /// could otherwise wait forever on a connection that will never answer, and its request with it.
    /// Work whose connection closes under it is answered at once (``ConnectionCloseWatch``), and a
    /// connection's first work puts a ``ReadCompletionGuard`` in front of it.
    /// The deadline is a timer on an event loop rather than a sleeping task: one per statement, the
    /// task took about 5 % of Relevo's CPU under load.
    private func withBoundedWait<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let race = LeaseRace<T>()
        let (client, closes) = (client, closes)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let loop = NIOSingletons.posixEventLoopGroup.any()
                race.begin(
                    continuation,
                    work: Task {
                        do {
                            // Answered before the watch ends: a close after the work is done concerns nobody.
                            try await client.withConnection { connection in
                                guard race.leased(connection) else { throw CancellationError() }
                                if closes.begin(connection, onClose: { race.lost() }) {
                                    await ReadCompletionGuard.install(on: connection)
                                }
                                defer { closes.end(connection) }
                                do { race.finish(.success(try await body(connection))) } catch { race.finish(.failure(error)) }
                            }
                        } catch {
                            race.finish(.failure(error))
                        }
                    },
                    deadline: loop.scheduleTask(in: TimeAmount(Self.connectionWait)) {
                        guard !race.timeOut() else { return }
                        race.extend(
                            loop.scheduleTask(in: TimeAmount(Self.workWait - Self.connectionWait)) {
                                Task { await race.abandon() }
                            })
                    })
            }
        } onCancel: {
            race.cancel()
        }
    }

    /// The database handed out no connection in time (down, unreachable or saturated), or the
    /// connection closed under the work, or did not answer it.
    package struct Unavailable: Error, CustomStringConvertible {
        package var description: String { "PostgreSQL did not answer: no connection in time, or the connection was lost" }
    }

    /// The error a transaction failed with, unwrapped from postgres-nio's transaction envelope.
    private static func underlying(_ error: any Error) -> any Error {
        guard let failure = error as? PostgresTransactionError else { return error }
        return failure.closureError ?? failure.commitError ?? failure.beginError ?? error
    }

    /// Queries are not logged: their binds carry sealed secrets and message content.
    static let quiet = Logger(label: "relevo.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Serializes the transactions that change which events of `keys` are unsettled, so that a key's
    /// head and its events agree and sequence numbers follow commit order within a key.
    /// Locks are taken in one order (sorted hashes) so that two such transactions cannot deadlock.
    static func lockOrderingKeys(_ keys: [String], _ connection: PostgresConnection) async throws {
        guard !keys.isEmpty else { return }
        _ = try await connection.query(
            """
            SELECT pg_advisory_xact_lock(\(orderingLockSpace), h)
            FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(\(Array(Set(keys)))::text[]) AS k ORDER BY h) AS locks
            """, logger: quiet
        ).collect()
    }

    /// The first half of the two-int advisory lock keys that guard ordering keys ("RLVO").
    static let orderingLockSpace: Int32 = 0x524C_564F

    /// Wakes this instance's dispatcher now and every instance's soon (``DueAnnouncer``); called after
    /// a commit that made events due.
    func announceDue() {
        signal.signal()
        announcer.announce()
    }
}

extension PostgresConnection {
    /// Rows of one statement in the current transaction.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await self.query(query, logger: PostgresStore.quiet).collect().map { $0.makeRandomAccess() }
    }

    /// Runs one statement; returns how many rows it returned (add `RETURNING 1` to count changed rows).
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> Int {
        try await self.query(query, logger: PostgresStore.quiet).collect().count
    }
}

/// One bounded wait for a pooled connection (``PostgresStore/withConnection(_:)``): whichever of the
/// work and the deadline settles first answers the caller, exactly once.
private final class LeaseRace<T: Sendable>: Sendable {
    private enum Phase {
        case waiting, leased, answered
    }

    private struct State {
        var phase = Phase.waiting
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var deadline: Scheduled<Void>?
        var connection: PostgresConnection?
        /// The caller was cancelled before `begin`.
        var cancelled = false
        /// The answer, when it came before `begin` handed over the continuation.
        var early: Result<T, any Error>?
    }

    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<T, any Error>, work: Task<Void, Never>, deadline: Scheduled<Void>) {
        let (cancelled, early) = state.withLock { state in
            state.continuation = continuation
            state.work = work
            state.deadline = deadline
            return (state.cancelled, state.early)
        }
        if let early {
            deadline.cancel()
            continuation.resume(with: early)
        } else if cancelled {
            cancel()
        }
    }

    /// The deadline for the work on the connection, once the wait for it is over; cancelled at once
    /// if the caller has been answered meanwhile.
    func extend(_ deadline: Scheduled<Void>) {
        let answered = state.withLock { state -> Bool in
            guard state.phase != .answered else { return true }
            state.deadline = deadline
            return false
        }
        if answered { deadline.cancel() }
    }

    /// Called with the connection: true if the caller still waits for it (the work may go on).
    func leased(_ connection: PostgresConnection) -> Bool {
        state.withLock { state in
            guard state.phase == .waiting else { return false }
            state.phase = .leased
            state.connection = connection
            return true
        }
    }

    func finish(_ result: Result<T, any Error>) {
        answer(result, from: [.waiting, .leased])
    }

    /// The connection closed under the work: the caller gets ``PostgresStore/Unavailable`` now, and
    /// the work, should it ever end, answers nobody.
    func lost() {
        answer(.failure(PostgresStore.Unavailable()), from: [.leased])
    }

    /// No connection was handed out in time; false when one was (or the work is done).
    @discardableResult
    func timeOut() -> Bool {
        answer(.failure(PostgresStore.Unavailable()), from: [.waiting])
    }

    /// The work on the connection took too long: the caller gets ``PostgresStore/Unavailable`` and the
    /// connection is closed, which ends whatever waits on it (the pool then drops it).
    func abandon() async {
        let connection = state.withLock { $0.phase == .leased ? $0.connection : nil }
        guard let connection, answer(.failure(PostgresStore.Unavailable()), from: [.leased]) else { return }
        try? await connection.close()
    }

    /// The caller's task was cancelled: the lease is given up, work on a connection runs to its end.
    func cancel() {
        let work = state.withLock { state -> Task<Void, Never>? in
            state.cancelled = true
            return state.phase == .waiting ? state.work : nil
        }
        work?.cancel()
    }

    @discardableResult
    private func answer(_ result: Result<T, any Error>, from phases: [Phase]) -> Bool {
        let taken = state.withLock { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Scheduled<Void>?)? in
            guard phases.contains(state.phase) else { return nil }
            let waiting = state.phase == .waiting
            state.phase = .answered
            guard let continuation = state.continuation else {
                state.early = result  // `begin` answers with it
                return (nil, nil, nil)
            }
            state.continuation = nil
            return (continuation, waiting ? state.work : nil, state.deadline)
        }
        guard let (continuation, work, deadline) = taken else { return false }
        if let continuation {
            deadline?.cancel()
            work?.cancel()
            continuation.resume(with: result)
        }
        return true
    }
}
