#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells, with one `pread` and no lock, whether anything was committed to a WAL-mode SQLite
/// database since the last look — by this process or any other (the CLI revoking a key, say).
///
/// It reads the header of the WAL index (the `-shm` file that every connection maps), which
/// SQLite rewrites on every commit: its change counter, frame count, checksums and salts move with
/// each write transaction (https://sqlite.org/walformat.html, "The WAL-Index Header"). The read path
/// caches lookups under this stamp and drops them the moment it changes, so a cached answer is
/// never older than the last commit that was visible when the request began.
final class SQLiteChangeStamp: Sendable {
    /// The first copy of the header: 48 bytes, as six words.
    struct Value: Equatable, Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        static func == (lhs: Value, rhs: Value) -> Bool {
            lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
                && lhs.words.3 == rhs.words.3 && lhs.words.4 == rhs.words.4 && lhs.words.5 == rhs.words.5
        }
    }

    private let descriptor: Int32

    /// `databasePath` must already be open in WAL mode by a connection of this process, which keeps
    /// the `-shm` file in place for as long as the store lives.
    init(databasePath: String) {
        descriptor = open(databasePath + "-shm", O_RDONLY | O_CLOEXEC)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// The current stamp, or nil when it cannot be read (then nothing may be cached).
    func current() -> Value? {
        guard descriptor >= 0 else { return nil }
        var value = Value(words: (0, 0, 0, 0, 0, 0))
        let count = withUnsafeMutableBytes(of: &value.words) { pread(descriptor, $0.baseAddress, 48, 0) }
        return count == 48 ? value : nil
    }
}
