import GRDB
import GRDBSQLite
import RelevoSQLiteConfig
import Synchronization

/// Tells, with a 48-byte memory read and no lock or system call, whether anything was committed
/// to a WAL-mode SQLite database since the last look — by this process or any other (the CLI
/// revoking a key, say).
///
/// It reads the header of the WAL index, which SQLite rewrites on every commit: its change counter,
/// frame count, checksums and salts move with each write transaction (the WAL-index header of
/// SQLite's WAL file format). The read path caches lookups under this stamp and drops them the moment
/// it changes, so a cached answer is never older than the last commit that was visible when the
/// request began. A read that races a commit sees either the old header (the commit is not published
/// yet) or a value that matches nothing cached (the cache is dropped): both are safe.
///
/// The header is read through SQLite's own mapping of the index (``relevo_sqlite_wal_index``), never
/// through a descriptor of the `-shm` file opened here: closing such a descriptor drops the POSIX
/// locks SQLite holds on that file, and the next process to open the database then believes it is
/// alone and truncates the index under this one's mapping.
final class SQLiteChangeStamp: @unchecked Sendable {
    // `header` is an atomic; the mapping it points to is only ever read, and torn reads are
    // harmless as explained above.

    /// The first copy of the header: 48 bytes, as six words.
    struct Value: Equatable, Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        static func == (lhs: Value, rhs: Value) -> Bool {
            lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
                && lhs.words.3 == rhs.words.3 && lhs.words.4 == rhs.words.4 && lhs.words.5 == rhs.words.5
        }
    }

    /// SQLite's read-only view of the index; nil once the store closes (SQLite unmaps it then).
    private let header: Atomic<UnsafeRawPointer?>

    /// `connection` must stay open for as long as the stamp is read (the pool's writer does): the
    /// mapping is SQLite's and lives while the process has a connection to the database.
    init(connection: Database) {
        header = Atomic(connection.sqliteConnection.flatMap { relevo_sqlite_wal_index($0) })
    }

    /// Called before the store's connections close, so that no read touches an unmapped region.
    func stop() { header.store(nil, ordering: .sequentiallyConsistent) }

    /// The current stamp, or nil when the header cannot be read (then nothing may be cached).
    func current() -> Value? {
        guard let header = header.load(ordering: .acquiring) else { return nil }
        var value = Value(words: (0, 0, 0, 0, 0, 0))
        withUnsafeMutableBytes(of: &value.words) { $0.copyMemory(from: UnsafeRawBufferPointer(start: header, count: 48)) }
        return value
    }
}
