import Logging
import PostgresNIO
import ServiceLifecycle

/// The `LISTEN` loop every announcement that reaches this instance goes through: a connection of its
/// own, listening on one channel until a graceful shutdown, and again a second after that connection
/// fails (the database restarting, say).
struct ChannelListener: Sendable {
    let client: PostgresClient
    let channel: String
    let logger: Logger
    /// What the warning says failed, as in "listening for new events failed; retrying".
    let purpose: String

    /// Runs until shutdown: `started` once each `LISTEN` has taken effect, `received` for each
    /// notification, `ended` when that connection's listening ends.
    func run(
        started: @escaping @Sendable () -> Void = {}, ended: @escaping @Sendable () -> Void = {},
        received: @escaping @Sendable (PostgresNotification) -> Void
    ) async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: channel) { notifications in
                            started()
                            defer { ended() }
                            for try await notification in notifications { received(notification) }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("listening for \(purpose) failed; retrying", metadata: ["error_type": "\(type(of: error))"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
