import Logging
import ServiceLifecycle

/// Prunes delivered events (and their attempts) older than the retention age, in the background
/// and in small batches so it never holds the write lock for long. Failed, cancelled, held and
/// pending events are kept: they are the ones an operator still has to look at.
package struct RetentionService: Service {
    let store: any RelevoStore
    let retention: Duration
    let interval: Duration
    let batchSize: Int
    let now: @Sendable () -> Timestamp
    let logger: Logger

    package init(
        store: any RelevoStore, retention: Duration, interval: Duration = .seconds(300), batchSize: Int = 500,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now, logger: Logger
    ) {
        self.store = store
        self.retention = retention
        self.interval = interval
        self.batchSize = batchSize
        self.now = now
        self.logger = logger
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            _ = try? await pruneOnce()
            // The pause ends at once on graceful shutdown, so a SIGTERM is never kept waiting.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One pass: batches until nothing old is left. Returns how many events were removed.
    @discardableResult
    package func pruneOnce() async throws -> Int {
        let cutoff = now().adding(duration: .zero - retention)
        var total = 0
        while true {
            let removed = try await store.pruneDelivered(settledBefore: cutoff, limit: batchSize)
            total += removed
            if removed < batchSize { break }
            await Task.yield()
        }
        if total > 0 { logger.info("pruned delivered events", metadata: ["count": .stringConvertible(total)]) }
        return total
    }
}
