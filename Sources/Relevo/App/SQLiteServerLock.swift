import Foundation

/// One `relevo serve` per SQLite file, held for the life of the process.
///
/// The SQLite store keeps the delivery queue's state in the memory of its one server: on start it
/// takes back every delivery that was in flight when the last server stopped. A second server on
/// the same file would therefore send again, at once, every event the first one is sending (seen:
/// two or three copies of each `webhook-id`). The one-shot CLI commands take no lock: they only
/// change projects and keys, which a running server reads from the file.
///
/// An exclusive `flock` on the database file itself: the kernel drops it when the process ends,
/// however it ends, and it is independent of the `fcntl` locks SQLite takes on the same file.
final class SQLiteServerLock: Sendable {
    private let descriptor: Int32

    /// Why a server could not take the file.
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// Takes the lock on `path` (an existing database file), or refuses at once if another process holds it.
    init(path: String) throws(Refused) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw Refused(description: "cannot open \(path) to lock it: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK
                ? "another relevo serve is running on \(path) (one server per SQLite file; use PostgreSQL to run several)"
                : "cannot lock \(path): \(String(cString: strerror(errno)))"
            close(descriptor)
            throw Refused(description: reason)
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
