import GRDBSQLite
import Synchronization

/// Read-only SQLite connections used directly on the calling thread, for the request path.
///
/// GRDB runs every read through a dispatch queue; on Linux that is a thread hand-off per read,
/// which costs far more than the index lookups the request path makes. These
/// connections are taken from a mutex-guarded free list, used by one thread at a time (SQLite's
/// multi-thread mode), keep their prepared statements, and never write: writes stay on GRDB's
/// single writer. In WAL mode each statement sees the last committed state, from any process.
final class SQLiteReader: Sendable {
    private struct State {
        var idle: [ReadConnection] = []
        var closed = false
    }

    private let path: String
    private let state = Mutex(State())

    init(path: String) { self.path = path }

    /// Runs `sql` with text/integer/null parameters and returns its rows.
    func fetchAll(_ sql: String, _ arguments: [SQLiteParameter]) throws -> [SQLiteRow] {
        let taken: ReadConnection? = try state.withLock { state in
            guard !state.closed else { throw SQLiteReadError(code: SQLITE_MISUSE, description: "the store is closed") }
            return state.idle.popLast()
        }
        do {
            let connection = try taken ?? ReadConnection(path: path)
            defer { state.withLock { state in if !state.closed { state.idle.append(connection) } } }
            return try connection.fetchAll(sql, arguments)
        } catch let error as SQLiteReadError where SQLiteStore.meansUnavailable(error.code) {
            throw StoreError.unavailable
        }
    }

    func fetchOne(_ sql: String, _ arguments: [SQLiteParameter]) throws -> SQLiteRow? {
        try fetchAll(sql, arguments).first
    }

    /// Closes idle connections and refuses new ones; reads after this throw.
    func close() {
        state.withLock { state in
            state.closed = true
            state.idle.removeAll()
        }
    }
}

/// A parameter bound to a statement.
enum SQLiteParameter: Sendable {
    case text(String)
    case integer(Int64)
    case blob([UInt8])
    case null

    init(_ text: String?) { self = text.map(Self.text) ?? .null }
    init(_ integer: Int64?) { self = integer.map(Self.integer) ?? .null }
    init(_ integer: Int?) { self = integer.map { .integer(Int64($0)) } ?? .null }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds `arguments` to the parameters of `statement`, in order (SQLite copies them). Text is
    /// bound with its length, so a NUL inside it is kept rather than ending it, and from the
    /// string's own UTF-8 storage: passing the `String` itself would make Swift build a NUL-terminated
    /// copy first, two allocations per text on the writer thread.
    static func bind(_ arguments: [SQLiteParameter], to statement: OpaquePointer) {
        for (offset, argument) in arguments.enumerated() {
            let index = Int32(offset + 1)
            switch argument {
            case .text(var text):
                _ = text.withUTF8 { utf8 in
                    // An empty buffer may have no address, and a null pointer would bind NULL, not "".
                    guard let start = utf8.baseAddress, !utf8.isEmpty else { return sqlite3_bind_text(statement, index, "", 0, transient) }
                    return start.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                        sqlite3_bind_text(statement, index, $0, Int32(utf8.count), transient)
                    }
                }
            case .integer(let value): sqlite3_bind_int64(statement, index, value)
            case .blob(let bytes): _ = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
            case .null: sqlite3_bind_null(statement, index)
            }
        }
    }
}

/// A column value read from a row.
enum SQLiteColumn: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case blob([UInt8])
    case null

    var text: String? { if case .text(let value) = self { value } else { nil } }
    var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    var bytes: [UInt8]? {
        switch self {
        case .blob(let bytes): bytes
        case .text(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The current row of a stepped statement, as values.
    static func row(of statement: OpaquePointer, columns: Int32) -> [SQLiteColumn] {
        (0..<columns).map { column in
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
            case SQLITE_NULL: .null
            case SQLITE_BLOB:
                .blob(
                    Array(
                        UnsafeRawBufferPointer(
                            start: sqlite3_column_blob(statement, column), count: Int(sqlite3_column_bytes(statement, column)))))
            default:
                .text(
                    String(
                        decoding: UnsafeRawBufferPointer(
                            start: sqlite3_column_text(statement, column), count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self))
            }
        }
    }
}

/// A failure of the raw SQLite API, with SQLite's own message (logged, never shown to clients).
struct SQLiteReadError: Error, CustomStringConvertible {
    let code: Int32
    let description: String
}

/// One connection and its statement cache. Only ever used by the thread that took it from the
/// free list, so it needs no lock of its own.
private final class ReadConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private var statements: [String: (statement: OpaquePointer, names: SQLiteColumnNames)] = [:]

    init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            if let handle { sqlite3_close(handle) }
            throw SQLiteReadError(code: code, description: "cannot open \(path) for reading")
        }
        self.handle = handle
        sqlite3_busy_timeout(handle, 10_000)
    }

    deinit {
        for (statement, _) in statements.values { sqlite3_finalize(statement) }
        sqlite3_close(handle)
    }

    func fetchAll(_ sql: String, _ arguments: [SQLiteParameter]) throws -> [SQLiteRow] {
        let (statement, names) = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        SQLiteParameter.bind(arguments, to: statement)
        var rows: [SQLiteRow] = []
        let columnCount = sqlite3_column_count(statement)
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw error(code) }
            rows.append(SQLiteRow(values: SQLiteColumn.row(of: statement, columns: columnCount), names: names))
        }
    }

    private func prepared(_ sql: String) throws -> (statement: OpaquePointer, names: SQLiteColumnNames) {
        if let prepared = statements[sql] { return prepared }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code) }
        let prepared = (statement, SQLiteColumnNames(of: statement))
        statements[sql] = prepared
        return prepared
    }

    private func error(_ code: Int32) -> SQLiteReadError {
        SQLiteReadError(code: code, description: String(cString: sqlite3_errmsg(handle)))
    }
}
