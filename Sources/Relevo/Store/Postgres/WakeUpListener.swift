import Logging
import PostgresNIO
import ServiceLifecycle

/// Listens on the channel ``DueAnnouncer`` notifies, so that a commit by any instance that makes
/// work due wakes this instance's dispatcher at once rather than at its next poll.
final class WakeUpListener: Service, Sendable {
    private let client: PostgresClient
    private let channel: String
    private let signal: WakeUpSignal
    private let logger: Logger

    init(client: PostgresClient, channel: String, signal: WakeUpSignal, logger: Logger) {
        self.client = client
        self.channel = channel
        self.signal = signal
        self.logger = logger
    }

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.client.withConnection { connection in
                        try await connection.listen(on: self.channel) { notifications in
                            self.signal.signal()  // whatever was announced while not listening
                            for try await _ in notifications { self.signal.signal() }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    self.logger.warning("listening for new events failed; retrying", metadata: ["error_type": "\(type(of: error))"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
