#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells, with a 48-byte memory read and no lock or system call, whether anything was committed
/// to a WAL-mode SQLite database since the last look — by this process or any other (the CLI
/// revoking a key, say).
///
/// It reads the header of the WAL index (the `-shm` file that every connection maps), which
/// SQLite rewrites on every commit: its change counter, frame count, checksums and salts move with
/// each write transaction (https://sqlite.org/walformat.html, "The WAL-Index Header"). The read path
/// caches lookups under this stamp and drops them the moment it changes, so a cached answer is
/// never older than the last commit that was visible when the request began. A read that races a
/// commit sees either the old header (the commit is not published yet) or a value that matches
/// nothing cached (the cache is dropped): both are safe.
final class SQLiteChangeStamp: @unchecked Sendable {
    // `header` points into a read-only shared mapping that lives as long as this object; it is
    // only ever read, and torn reads are harmless as explained above.

    /// The first copy of the header: 48 bytes, as six words.
    struct Value: Equatable, Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        static func == (lhs: Value, rhs: Value) -> Bool {
            lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
                && lhs.words.3 == rhs.words.3 && lhs.words.4 == rhs.words.4 && lhs.words.5 == rhs.words.5
        }
    }

    private static let mappedLength = 4096
    private let header: UnsafeRawPointer?

    /// `databasePath` must already be open in WAL mode by a connection of this process: SQLite then
    /// keeps the `-shm` file (at least 32 KiB) in place for as long as the store lives.
    init(databasePath: String) {
        let descriptor = open(databasePath + "-shm", O_RDONLY | O_CLOEXEC)
        defer { if descriptor >= 0 { close(descriptor) } }
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0, status.st_size >= Self.mappedLength,
              let mapping = mmap(nil, Self.mappedLength, PROT_READ, MAP_SHARED, descriptor, 0),
              mapping != MAP_FAILED
        else {
            header = nil
            return
        }
        header = UnsafeRawPointer(mapping)
    }

    deinit {
        if let header { munmap(UnsafeMutableRawPointer(mutating: header), Self.mappedLength) }
    }

    /// The current stamp, or nil when the header cannot be read (then nothing may be cached).
    func current() -> Value? {
        guard let header else { return nil }
        var value = Value(words: (0, 0, 0, 0, 0, 0))
        withUnsafeMutableBytes(of: &value.words) { $0.copyMemory(from: UnsafeRawBufferPointer(start: header, count: 48)) }
        return value
    }
}
