import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Carries the web chat's room changes between instances sharing the database: each instance
/// announces the rooms whose history it changed (`NOTIFY`, after the commit), and wakes its own
/// streams of the rooms the others announce.
///
/// Coalesced as ``DueAnnouncer`` is: one statement in flight at a time, carrying every room
/// changed meanwhile, in a transaction of its own that does not wait for its WAL flush. A lost
/// announcement (the instance died between its commit and the NOTIFY) delays a stream on another
/// instance until its visitor's next reconnect or message; it loses nothing, the history being the record.
final class TranscriptAnnouncer: Service, Sendable {
    private let pending = Mutex<Set<String>>([])
    private let wake = WakeUpSignal()
    private let client: PostgresClient
    private let transcripts: TranscriptSignal
    private let logger: Logger

    /// The NOTIFY channel; each payload is one room's key (`project/room`).
    static let channel = "relevo_transcripts"

    init(client: PostgresClient, transcripts: TranscriptSignal, logger: Logger) {
        self.client = client
        self.transcripts = transcripts
        self.logger = logger
    }

    /// Announces a room whose history this instance changed (its commit is done).
    func announce(_ key: String) {
        pending.withLock { _ = $0.insert(key) }
        wake.signal()
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.send() }
            group.addTask { await self.listen() }
        }
    }

    private func send() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                guard await self.wake.wait(upTo: .seconds(3600)) else { continue }
                let keys = self.pending.withLock { keys in
                    defer { keys.removeAll(keepingCapacity: true) }
                    return Array(keys)
                }
                guard !keys.isEmpty else { continue }
                do {
                    _ = try await self.client.query(
                        """
                        SELECT set_config('synchronous_commit', 'off', true), count(pg_notify(\(Self.channel), k)) FROM unnest(\(keys)::text[]) AS k
                        """, logger: PostgresStore.quiet
                    ).collect()
                } catch {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    private func listen() async {
        await ChannelListener(client: client, channel: Self.channel, logger: logger, purpose: "web chat changes")
            .run { notification in self.transcripts.wake(notification.payload) }
    }
}
