import Foundation

/// One `relevo serve` per SQLite file, held for the life of the process.
///
/// The SQLite store keeps the delivery queue's state in the memory of its one server: on start it
/// takes back every delivery that was in flight when the last server stopped. A second server on
/// the same file would therefore send again, at once, every event the first one is sending, and
/// panels would get each `webhook-id` more than once. The one-shot CLI commands take no lock: they
/// only change projects and keys, which a running server reads from the file.
///
/// An exclusive `flock` on `<database>.lock` beside the database, which the kernel drops when the
/// process ends, however it ends. Not on the database file itself: closing any descriptor of that
/// file drops every `fcntl` lock the process holds on it, SQLite's included.
final class SQLiteServerLock: Sendable {
    private let descriptor: Int32

    /// Why a server could not take the file.
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// Takes the lock for the database at `path`, or refuses at once if another process holds it.
    /// Creates the database's directory if needed (the store would, right after).
    init(path: String) throws(Refused) {
        let lockPath = path + ".lock"
        try? FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw Refused(description: "cannot open \(lockPath) to lock \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason =
                errno == EWOULDBLOCK
                ? "another relevo serve is running on \(path) (one server per SQLite file; use PostgreSQL to run several)"
                : "cannot lock \(path): \(String(cString: strerror(errno)))"
            close(descriptor)
            throw Refused(description: reason)
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
