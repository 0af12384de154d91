import GRDB
import GRDBSQLite

/// Statements of the write path, prepared once per writer connection.
///
/// `Database.execute(sql:)` parses its SQL on every call, a large share of the writer thread's time
/// under load. The SQL strings here are constants, so GRDB's statement cache serves them.
extension Database {
    func run(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    func string(sql: String, arguments: StatementArguments = StatementArguments()) throws -> String? {
        try String.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    func strings(sql: String, arguments: StatementArguments = StatementArguments()) throws -> [String] {
        try String.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    func integer(sql: String, arguments: StatementArguments = StatementArguments()) throws -> Int64? {
        try Int64.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    /// Runs `body` in a savepoint of the current transaction: if it throws, only its own changes are
    /// rolled back. The savepoint statements are cached (GRDB's `inSavepoint` parses them each time).
    func inCachedSavepoint<T>(_ body: () throws -> T) -> Result<T, any Error> {
        do {
            try run(sql: "SAVEPOINT job")
        } catch {
            return .failure(error)
        }
        do {
            let value = try body()
            try run(sql: "RELEASE job")
            return .success(value)
        } catch {
            try? run(sql: "ROLLBACK TO job")
            try? run(sql: "RELEASE job")
            return .failure(error)
        }
    }

    /// The first row of a query, read straight from SQLite with the statement's column names read
    /// once: GRDB's `Row` would build a dictionary of lowercased column names on every fetch, for the
    /// many columns a settlement reads back (the key's next head and its event).
    func firstRow(sql: String, _ parameters: [SQLiteParameter]) throws -> SQLiteRow? {
        let handle = try bound(sql: sql, parameters)
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW:
            return SQLiteRow(
                values: SQLiteColumn.row(of: handle, columns: sqlite3_column_count(handle)),
                names: SQLiteColumnNames.of(handle, sql: sql))
        case SQLITE_DONE: return nil
        case let code: throw failure(code, sql: sql)
        }
    }

    /// Runs a statement of the hot write path with its parameters bound straight through SQLite's
    /// C API. GRDB's `StatementArguments` (an array of existentials, each converted, validated and
    /// bound) costs the writer thread about as much as SQLite's own work on the statement. Only for
    /// tables the read cache does not cache: GRDB's transaction observers see what GRDB executes.
    func run(sql: String, _ parameters: [SQLiteParameter]) throws {
        let handle = try bound(sql: sql, parameters)
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw failure(code, sql: sql) }
    }

    /// The cached statement for `sql`, reset, with `parameters` bound.
    private func bound(sql: String, _ parameters: [SQLiteParameter]) throws -> OpaquePointer {
        let handle = try cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        SQLiteParameter.bind(parameters, to: handle)
        return handle
    }

    /// A GRDB error for a failed step, so that a constraint failure reads as one (``StoreError/conflict``).
    private func failure(_ code: Int32, sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqliteConnection)), sql: sql)
    }
}
