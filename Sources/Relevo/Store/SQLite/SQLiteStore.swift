import Foundation
import GRDB
import GRDBSQLite
import RelevoSQLiteConfig
import ServiceLifecycle
import Synchronization

/// The embedded store: one SQLite file in WAL mode with `synchronous=FULL`.
///
/// Writes go through GRDB's `DatabasePool`: one serialized writer connection, versioned
/// migrations, awaited commits (with `synchronous=FULL` a commit waits for fsync). Reads go through
/// ``SQLiteReader``: read-only connections used on the calling thread, concurrently with the
/// writer — they are index lookups of a few microseconds, and a thread hop would cost more.
/// The two lookups every authenticated request and every attempt make are also cached until a
/// commit that may change them (``SQLiteReadCache``).
package final class SQLiteStore: RelevoStore {
    let pool: DatabasePool
    let reader: SQLiteReader
    let cache: SQLiteReadCache
    /// One process serves a SQLite store: its streams are woken here only.
    package let transcripts = TranscriptSignal()
    let changes: SQLiteChangeStamp
    let signal = WakeUpSignal()
    /// The heads the dispatcher may claim, and the claims (in memory: one delivering server per file).
    let schedule: SQLiteDeliverySchedule
    let writes: SQLiteWriteQueue
    /// The last write failed for want of storage: ``ping()`` then tries a write of its own.
    private let writesFailing = Atomic(false)
    /// When a write last failed for want of storage; ``ping()`` fails for ``failureMemory`` after it.
    private let lastStorageFailure = Mutex(ContinuousClock.now - .seconds(3600))
    static let failureMemory: Duration = .seconds(5)

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// `carriedEventLimit`: see ``SQLiteDeliverySchedule/init(carryLimit:)``.
    package convenience init(path: String) throws {
        try self.init(path: path, carriedEventLimit: 10_000)
    }

    /// `itemsBatch`: see ``SQLiteConversationIndex/threshold``.
    init(path: String, carriedEventLimit: Int, itemsBatch: Int = 4096) throws {
        _ = Self.memoryStatisticsOff
        schedule = SQLiteDeliverySchedule(carryLimit: carriedEventLimit)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Another process (the CLI) may hold the write lock for a moment.
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 8
        pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets NORMAL when it enables WAL; FULL makes every commit durable across power loss,
        // which the outbox promises (§5.2). Synchronous is per connection and all writes use this one.
        // A group commit touches many pages (every index of every event of the batch): with SQLite's
        // default 2 MiB page cache the writer would re-read them from the file and spill them into the
        // WAL mid-transaction. 32 MiB keeps a batch's pages in memory. The statement journal (savepoints,
        // see SQLiteWriteQueue) stays in memory too: past 64 KiB SQLite would spill it to a file in
        // /var/tmp, writes the writer need not make.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -32768")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        try SQLiteMigrations.migrator.migrate(pool)
        reader = SQLiteReader(path: path)
        // The writer has read the database (the migrator did), so SQLite has mapped its WAL index.
        changes = try pool.writeWithoutTransaction { db in SQLiteChangeStamp(connection: db) }
        cache = SQLiteReadCache(changes: changes)
        pool.add(transactionObserver: cache.cachedTablesWatch, extent: .databaseLifetime)
        let index = SQLiteConversationIndex(threshold: itemsBatch)
        writes = SQLiteWriteQueue(pool: pool, cache: cache, epilogue: { db in index.catchUp(db) })
        schedule.load(try Self.allHeads(reader))
    }

    /// SQLite runs in this process and is ready once opened: nothing runs in the background.
    package var services: [any Service] { [] }
    package func start() async throws {}
    package func ready() async throws {}

    package func ping() async throws {
        // Reads the schema, so a missing or unreadable file fails here rather than on a request.
        _ = try reader.fetchOne("SELECT COUNT(*) FROM sqlite_master", [])
        // Reads work on a full disk, and so may a small write that fits where a failed one was: the
        // store counts as failing while any write failed for want of storage in the last seconds.
        if ContinuousClock.now - lastStorageFailure.withLock({ $0 }) < Self.failureMemory { throw StoreError.unavailable }
        // Failed earlier and nothing written since: only a write tells whether writes work again.
        // Rewriting one row as it is puts a page in the WAL, so it needs space as a real write does.
        if writesFailing.load(ordering: .relaxed) {
            try await write { db in try db.execute(sql: "UPDATE projects SET name = name WHERE rowid = (SELECT MIN(rowid) FROM projects)") }
        }
    }

    package func close() async throws {
        changes.stop()
        reader.close()
        try pool.close()
    }

    /// Before the process's first SQLite connection (in `relevo serve`, this store's). A process that
    /// opened one earlier (a test, say) keeps SQLite's statistics on, which changes nothing but speed.
    private static let memoryStatisticsOff: Void = { _ = relevo_sqlite_disable_memory_statistics() }()

    /// Every write goes through the group-commit queue; SQLite's constraint failures become ``StoreError/conflict``.
    /// `afterCommit` runs once the write is durable, in commit order with the other writes' (it updates the schedule).
    /// Storage failures (``meansUnavailable(_:)``) become ``StoreError/unavailable`` and make
    /// ``ping()`` fail until a write commits again.
    func write<T: Sendable>(
        _ body: @Sendable @escaping (Database) throws -> T,
        afterCommit: (@Sendable (T) -> Void)? = nil
    ) async throws -> T {
        do {
            let result = try await writes.write(body, afterCommit: afterCommit)
            if writesFailing.load(ordering: .relaxed) { writesFailing.store(false, ordering: .relaxed) }
            return result
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError.conflict
        } catch let error as DatabaseError where Self.meansUnavailable(error.resultCode.rawValue) {
            writesFailing.store(true, ordering: .relaxed)
            lastStorageFailure.withLock { $0 = .now }
            throw StoreError.unavailable
        }
    }

    /// SQLite's result codes that say the storage, not the statement, failed: a full disk, an I/O
    /// error, a file that cannot be opened or written, a lock held too long, no memory.
    static func meansUnavailable(_ code: Int32) -> Bool {
        switch code & 0xFF {
        case SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM,
            SQLITE_PROTOCOL:
            true
        default: false
        }
    }
}
