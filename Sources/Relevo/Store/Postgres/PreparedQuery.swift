import PostgresNIO

/// The text of a statement that runs on every request or delivery, named by its type.
protocol PreparedSQL {
    static var sql: String { get }
}

/// A statement PostgreSQL parses once per pooled connection and, after a few calls, plans once
/// (a generic plan) instead of at every call: planning the channel message's context read took
/// longer than running it. Its rows are read by column name, as ``PostgresStore/rows(_:)-(PostgresQuery)`` reads them.
struct PreparedQuery<SQL: PreparedSQL>: PostgresPreparedStatement {
    typealias Row = PostgresRow

    static var name: String { "relevo." + String(describing: SQL.self) }
    static var sql: String { SQL.sql }

    private let bindings: PostgresBindings

    /// The statement with `values` as $1, $2, … in order.
    init(_ values: any PostgresDynamicTypeEncodable...) {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { bindings.append(value) }
        self.bindings = bindings
    }

    func makeBindings() -> PostgresBindings { bindings }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

extension PostgresStore {
    /// One prepared statement outside a transaction; its rows.
    func rows<SQL>(_ query: PreparedQuery<SQL>) async throws -> [PostgresRandomAccessRow] {
        try await withConnection { connection in
            var rows: [PostgresRandomAccessRow] = []
            for try await row in try await connection.execute(query, logger: Self.quiet) { rows.append(row.makeRandomAccess()) }
            return rows
        }
    }
}

extension [String] {
    /// These columns as a SELECT list, qualified by `table` when given and aliased `"<prefix>name"`
    /// when a prefix is given (PostgreSQL names a qualified column by its bare name otherwise).
    func selectList(of table: String? = nil, prefixed prefix: String = "") -> String {
        map { column -> String in
            let qualified = table.map { "\($0).\(column)" } ?? column
            return prefix.isEmpty ? qualified : "\(qualified) AS \"\(prefix)\(column)\""
        }.joined(separator: ", ")
    }
}
