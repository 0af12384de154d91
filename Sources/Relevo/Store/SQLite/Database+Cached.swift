import GRDB

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
}
