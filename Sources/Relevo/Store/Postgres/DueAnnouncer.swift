import PostgresNIO
import ServiceLifecycle

/// Tells the other instances sharing the database that events became due, with a `NOTIFY` sent
/// after the commits that made them so.
///
/// Not inside the write transactions: PostgreSQL commits the transactions that notified one at a
/// time, each holding one lock on the notification queue through its WAL flush, so a NOTIFY in
/// every write would make that lock the limit of an instance's throughput.
///
/// This instance's dispatcher is woken in memory at each such commit (``PostgresStore/announceDue()``),
/// so the announcement only lets the others help: its payload is this instance's id, which its own
/// listener lets pass, and it is coalesced, one NOTIFY in flight at a time, carrying every commit
/// announced meanwhile, at most one each ``interval`` (one per commit cost a round trip and a commit
/// for every four events under load). It runs in a transaction of its own. PostgreSQL gives a
/// notifying transaction an id, so its commit writes a WAL record; it commits with
/// `synchronous_commit` off, so it does not wait for that flush while holding the queue's lock. If
/// it is lost (the instance dies between a commit and its announcement, or the database does not
/// answer), the other instances find the events at their next poll, within a second.
final class DueAnnouncer: Service, Sendable {
    private let pending = WakeUpSignal()
    private let client: PostgresClient
    private let channel: String
    private let instanceId: String

    /// The least time between two announcements.
    static let interval: Duration = .milliseconds(20)

    init(client: PostgresClient, channel: String, instanceId: String) {
        self.client = client
        self.channel = channel
        self.instanceId = instanceId
    }

    /// Announces the commits made so far.
    func announce() { pending.signal() }

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                guard await self.pending.wait(upTo: .seconds(3600)) else { continue }
                do {
                    _ = try await self.client.query(
                        "SELECT set_config('synchronous_commit', 'off', true), pg_notify(\(self.channel), \(self.instanceId))",
                        logger: PostgresStore.quiet
                    ).collect()
                    try? await Task.sleep(for: Self.interval)
                } catch {
                    // The pool fails requests while the database is away; polls cover the gap.
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }
}
