import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode with `synchronous=FULL`.
///
/// GRDB's `DatabasePool` gives the concurrency model the issue asks for: one writer connection
/// (writes are serialized), several reader connections that run concurrently with it.
/// Reads on the request path are executed synchronously on the calling thread: they are
/// index lookups of a few microseconds, and a hop to another thread would cost more than the read.
/// Writes are awaited, because with `synchronous=FULL` a commit waits for fsync.
public final class SQLiteStore: RelevoStore {
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws {
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
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try SQLiteMigrations.migrator.migrate(pool)
    }

    /// A read executed on the calling thread (see the type's comment on why).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    public func ping() async throws {
        _ = try read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func close() async throws {
        try pool.close()
    }

    /// Maps SQLite's constraint failures to ``StoreError/conflict``.
    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw StoreError.conflict
        }
    }
}
