import GRDBSQLite
import Synchronization

/// One row read by column name. A column missing from the query, a value of another type or a value
/// outside its domain throws ``StoreRowError``: nothing is defaulted.
struct SQLiteRow: Sendable {
    let values: [SQLiteColumn]
    let names: SQLiteColumnNames
    /// Prepended to every name read, to read one part of a joined row (see ``scoped(_:)``).
    private(set) var prefix = ""

    init(values: [SQLiteColumn], names: SQLiteColumnNames) {
        self.values = values
        self.names = names
    }

    /// The same row, reading the columns aliased `"<prefix>name"` (one entity of a join).
    func scoped(_ prefix: String) -> SQLiteRow {
        var row = self
        row.prefix = prefix
        return row
    }

    func isNull(_ name: String) throws -> Bool { try value(name) == .null }

    func text(_ name: String) throws -> String {
        guard let text = try optionalText(name) else { throw StoreRowError(column: prefix + name, problem: "NULL where text is required") }
        return text
    }

    func optionalText(_ name: String) throws -> String? {
        switch try value(name) {
        case .text(let text): text
        case .null: nil
        default: throw StoreRowError(column: prefix + name, problem: "not text")
        }
    }

    func integer(_ name: String) throws -> Int64 {
        guard let integer = try optionalInteger(name) else {
            throw StoreRowError(column: prefix + name, problem: "NULL where an integer is required")
        }
        return integer
    }

    func optionalInteger(_ name: String) throws -> Int64? {
        switch try value(name) {
        case .integer(let integer): integer
        case .null: nil
        default: throw StoreRowError(column: prefix + name, problem: "not an integer")
        }
    }

    /// A BLOB's bytes (text is accepted as its UTF-8 bytes: SQLite may hand either for a BLOB column).
    func bytes(_ name: String) throws -> [UInt8] {
        switch try value(name) {
        case .blob(let bytes): bytes
        case .text(let text): Array(text.utf8)
        default: throw StoreRowError(column: prefix + name, problem: "not a BLOB")
        }
    }

    func timestamp(_ name: String) throws -> Timestamp { Timestamp(millisecondsSince1970: try integer(name)) }

    func optionalTimestamp(_ name: String) throws -> Timestamp? { try optionalInteger(name).map(Timestamp.init(millisecondsSince1970:)) }

    /// A value of a string enumeration; a stored value the enumeration does not know throws.
    func enumeration<T: RawRepresentable>(_ name: String, as type: T.Type = T.self) throws -> T where T.RawValue == String {
        let raw = try text(name)
        guard let value = T(rawValue: raw) else { throw StoreRowError(column: prefix + name, problem: "unknown value \(raw)") }
        return value
    }

    /// Stored JSON text, parsed.
    func optionalJSON(_ name: String) throws -> JSONValue? {
        guard let text = try optionalText(name) else { return nil }
        do {
            return try JSONParser.parse(text)
        } catch {
            throw StoreRowError(column: prefix + name, problem: "not JSON")
        }
    }

    func json(_ name: String) throws -> JSONValue {
        guard let value = try optionalJSON(name) else { throw StoreRowError(column: prefix + name, problem: "NULL where JSON is required") }
        return value
    }

    private func value(_ name: String) throws -> SQLiteColumn {
        guard let index = names.index[prefix.isEmpty ? name : prefix + name] else {
            throw StoreRowError(column: prefix + name, problem: "missing from the query")
        }
        return values[index]
    }

    /// `columns` as a SELECT list, qualified by `table` and aliased `"<prefix>name"` when given (a
    /// qualified column is always aliased: SQLite does not promise the name it reports otherwise).
    static func list(_ columns: [String], of table: String? = nil, prefixed prefix: String = "") -> String {
        columns.map { column in
            guard let table else { return prefix.isEmpty ? column : "\(column) AS \"\(prefix)\(column)\"" }
            return "\(table).\(column) AS \"\(prefix)\(column)\""
        }.joined(separator: ", ")
    }
}

/// The column names of a prepared statement, by position: read once per statement and shared by its rows.
final class SQLiteColumnNames: Sendable {
    let index: [String: Int]

    init(_ names: [String]) {
        index = Dictionary(names.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
    }

    /// The names (or aliases) of a prepared statement's result columns.
    convenience init(of statement: OpaquePointer) {
        self.init((0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) })
    }

    /// The names of the writer's cached statements, by SQL (the writer is one thread: no contention).
    private static let byStatement = Mutex<[String: SQLiteColumnNames]>([:])

    static func of(_ statement: OpaquePointer, sql: String) -> SQLiteColumnNames {
        byStatement.withLock { cache in
            if let names = cache[sql] { return names }
            let names = SQLiteColumnNames(of: statement)
            cache[sql] = names
            return names
        }
    }
}
