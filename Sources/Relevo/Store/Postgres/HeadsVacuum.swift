import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Keeps the `heads` table small under load by vacuuming it once a second while events are settled.
///
/// The table holds one row per ordering key with work left, a few hundred, but each event inserts or
/// moves its key's head and removes it when settled: thousands of dead rows a second under load.
/// Autovacuum visits a database at most once per `autovacuum_naptime` (a minute by default), and
/// meanwhile every statement that reads heads (the claim, the next due time) reads the dead rows
/// too: the next due time's scan took more than a millisecond. So each instance that settled at
/// least ``threshold`` events in the last second vacuums the table (`SKIP_LOCKED`: when another
/// instance is at it, this one skips its turn). An idle instance never does.
///
/// Without truncation: giving the table's emptied last pages back needs its exclusive lock, which the
/// claims that keep reading and writing heads hold off, and VACUUM waits for it in steps of 50 ms, up to
/// five seconds. With it, a vacuum took 36 ms (one instance) to 150 ms (two); without, 2 ms. The
/// pages stay, and the next rows reuse them.
final class HeadsVacuum: Service, Sendable {
    private let settled = Atomic<Int>(0)
    private let client: PostgresClient

    /// Settlements a second below which autovacuum is left to it.
    static let threshold = 500

    init(client: PostgresClient) {
        self.client = client
    }

    /// Counts settled events (each moved or removed its key's head).
    func settled(_ count: Int) {
        settled.add(count, ordering: .relaxed)
    }

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard self.settled.exchange(0, ordering: .relaxed) >= Self.threshold else { continue }
                // A failure (the database away) is the next second's concern.
                _ = try? await self.client.query("VACUUM (SKIP_LOCKED, TRUNCATE false) heads", logger: PostgresStore.quiet).collect()
            }
        }
    }
}
