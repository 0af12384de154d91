import Logging
import PostgresNIO
import ServiceLifecycle

/// Listens on the channel ``DueAnnouncer`` notifies, so that a commit by another instance that makes
/// work due wakes this instance's dispatcher at once rather than at its next poll.
final class WakeUpListener: Service, Sendable {
    private let listener: ChannelListener
    /// This instance: its own announcements (``DueAnnouncer``) wake nothing, its dispatcher knows already.
    private let instanceId: String
    private let signal: WakeUpSignal

    init(client: PostgresClient, channel: String, instanceId: String, signal: WakeUpSignal, logger: Logger) {
        listener = ChannelListener(client: client, channel: channel, logger: logger, purpose: "new events")
        self.instanceId = instanceId
        self.signal = signal
    }

    func run() async {
        // Started: whatever was announced while not listening.
        await listener.run(started: { self.signal.signal() }) { notification in
            if notification.payload != self.instanceId { self.signal.signal() }
        }
    }
}
