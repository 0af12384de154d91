import PostgresNIO

/// Tells every instance sharing the database (this one too) that events became due, with a
/// `NOTIFY` sent after the commits that made them so.
///
/// Not inside the write transactions: PostgreSQL commits the transactions that notified one at a
/// time, each holding one lock on the notification queue through its WAL flush. With a NOTIFY in
/// every channel message and settlement, 14 to 29 of 32 connections waited for that lock
/// (`Lock:object`) and one instance delivered ~350 events/s whatever else changed.
///
/// Coalesced: one NOTIFY in flight at a time, carrying every commit announced meanwhile, in a
/// transaction of its own. PostgreSQL gives a notifying transaction an id, so its commit writes a
/// WAL record; it commits with `synchronous_commit` off, so it does not wait for that flush while
/// holding the queue's lock. If it is lost (the instance dies between a commit and its
/// announcement, or the database does not answer), the other instances find the events at their
/// next poll, within a second.
final class DueAnnouncer: Sendable {
    private let pending = WakeUpSignal()
    private let sending: Task<Void, Never>

    init(client: PostgresClient, channel: String) {
        let pending = pending
        sending = Task {
            while !Task.isCancelled {
                guard await pending.wait(upTo: .seconds(3600)) else { continue }
                do {
                    _ = try await client.query(
                        "SELECT set_config('synchronous_commit', 'off', true), pg_notify(\(channel), '')", logger: PostgresStore.quiet
                    ).collect()
                } catch {
                    // The pool fails requests while the database is away; polls cover the gap.
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    /// Announces the commits made so far.
    func announce() { pending.signal() }

    func stop() { sending.cancel() }
}
