import GRDB
import GRDBSQLite

/// Statements of the write path, prepared once per writer connection.
///
/// `Database.execute(sql:)` parses its SQL on every call; under load that parse was a third of the
/// writer thread's time. The SQL strings here are constants, so GRDB's statement cache serves them.
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

    /// The first row of a query, as column values read straight from SQLite. GRDB's `Row` builds a
    /// dictionary of lowercased column names on every fetch: for the 21 columns a settlement reads
    /// back (the key's next head and its event), most of the cost of that read.
    func firstRow(sql: String, arguments: StatementArguments) throws -> [SQLiteColumn]? {
        let statement = try cachedStatement(sql: sql)
        try statement.setArguments(arguments)  // resets the statement, then binds
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return SQLiteColumn.row(of: handle, columns: sqlite3_column_count(handle))
        case SQLITE_DONE: return nil
        case let code: throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqliteConnection)))
        }
    }
}
