import GRDB
import Synchronization

/// Group commit for every write of the SQLite store.
///
/// Writes that arrive while a transaction is being committed wait and are then run together in
/// the next transaction. Every caller returns only after the transaction holding its write is
/// durable (`synchronous=FULL`), so nothing is acknowledged early; under load, N requests cost one
/// fsync instead of N.
///
/// A batch first runs as one plain transaction. Should any write in it throw (a conflict), that
/// transaction is rolled back and the batch runs again with each write in its own savepoint, so
/// the failing one is rolled back alone and gets its own error while the others commit. Savepoints
/// only on that rare second pass, because each one copies every page its write touches into
/// SQLite's statement journal.
final class SQLiteWriteQueue: Sendable {
    /// A queued write: `run` executes it inside the batch transaction (in a savepoint when `isolated`)
    /// and hands back what to do once the transaction committed; without a savepoint a failure is
    /// thrown as ``Failed`` instead. `fail` answers it when the transaction as a whole failed.
    /// Exactly one completion or `fail` resumes the caller.
    private struct Job: Sendable {
        let run: @Sendable (_ db: Database, _ isolated: Bool) throws -> @Sendable () -> Void
        let fail: @Sendable (any Error) -> Void
    }

    /// A write of the plain pass threw: the pass is rolled back and run again with savepoints.
    private struct Failed: Error {}

    private struct State {
        var jobs: [Job] = []
        var flushing = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    /// Told about every batch transaction, on the writer connection: it keeps its entries across
    /// the commits that change nothing it caches.
    private let cache: SQLiteReadCache?
    /// Runs at the end of every batch transaction, after its writes (it must not throw: a batch
    /// succeeds or fails by its own writes).
    private let epilogue: (@Sendable (Database) -> Void)?
    /// Most writes per transaction, so one batch never holds the lock for long.
    static let maximumBatch = 256

    init(pool: DatabasePool, cache: SQLiteReadCache? = nil, epilogue: (@Sendable (Database) -> Void)? = nil) {
        self.pool = pool
        self.cache = cache
        self.epilogue = epilogue
    }

    /// Runs `body` in the next batch; `afterCommit` gets its result once the batch is durable, before
    /// the next batch starts and in the batch's order, so what it records follows the commit order.
    func write<T: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> T,
        afterCommit: (@Sendable (T) -> Void)? = nil
    ) async throws -> T {
        // Unchecked: every job is answered exactly once (a completion after the commit, or `fail`),
        // and the checked continuation's box and bookkeeping would be one more allocation per write.
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
            let job = Job(
                run: { db, isolated in
                    let outcome: Result<T, any Error>
                    if isolated {
                        outcome = db.inCachedSavepoint { try body(db) }
                    } else {
                        do { outcome = .success(try body(db)) } catch { throw Failed() }
                    }
                    return {
                        if let afterCommit, case .success(let value) = outcome { afterCommit(value) }
                        continuation.resume(with: outcome)
                    }
                },
                fail: { error in continuation.resume(throwing: error) })
            let leads = state.withLock { state -> Bool in
                state.jobs.append(job)
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if leads { Task { await self.drain() } }
        }
    }

    /// One batch transaction on the writer connection, with the cache told before and after.
    private func transaction<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            var result: T?
            do {
                try self.cache?.writerWillBegin(db)
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    self.epilogue?(db)
                    return .commit
                }
            } catch {
                self.cache?.writerDidFail()
                throw error
            }
            self.cache?.writerDidCommit(db)
            return result!
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Job] in
                let batch = Array(state.jobs.prefix(Self.maximumBatch))
                state.jobs.removeFirst(batch.count)
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let completions: [@Sendable () -> Void]
                do {
                    completions = try await transaction { db in try batch.map { try $0.run(db, false) } }
                } catch is Failed {
                    completions = try await transaction { db in try batch.map { try $0.run(db, true) } }
                }
                for complete in completions { complete() }
            } catch {
                for job in batch { job.fail(error) }  // the transaction did not commit: nothing of the batch was written
            }
        }
    }
}
