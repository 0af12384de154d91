import NIOCore
import PostgresNIO
import Synchronization

/// Answers the work on a pooled connection as soon as that connection closes. postgres-nio never
/// answers a statement written to a connection whose channel has already closed, and a server that
/// restarts closes it between two statements of one piece of work (the statements of a transaction,
/// or a lease handed out as the close arrives): without this,
/// that work would wait until ``PostgresStore/workWait`` gave up on it.
///
/// One close callback per connection rather than per use: a future's callbacks cannot be removed,
/// and a connection lives for millions of statements.
final class ConnectionCloseWatch: Sendable {
    /// The connections seen open, each with what to call if it closes during the current work.
    private let watched = Mutex<[PostgresConnection.ID: (@Sendable () -> Void)?]>([:])

    /// Until ``end(_:)``, `onClose` runs if `connection` closes (at once if it already has).
    /// Returns whether `connection` is one this watch had not seen yet.
    @discardableResult
    func begin(_ connection: PostgresConnection, onClose: @escaping @Sendable () -> Void) -> Bool {
        let first = watched.withLock { watched in
            defer { watched[connection.id] = .some(onClose) }
            return watched[connection.id] == nil
        }
        guard first else { return false }
        connection.closeFuture.whenComplete { [self] _ in
            let onClose = watched.withLock { $0.removeValue(forKey: connection.id) }
            onClose??()
        }
        return true
    }

    /// The work on `connection` is over: its close concerns nobody now.
    func end(_ connection: PostgresConnection) {
        watched.withLock { watched in
            if watched[connection.id] != nil { watched[connection.id] = .some(nil) }
        }
    }
}
