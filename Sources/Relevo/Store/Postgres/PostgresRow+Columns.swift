import PostgresNIO

/// Reads a row by column name. A column missing from the query, a value of another type or a value
/// outside its domain throws ``StoreRowError``: nothing is defaulted.
extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let stored = try cell(name)
        do {
            return try stored.decode(T.self)
        } catch {
            throw StoreRowError(column: name, problem: stored.bytes == nil ? "NULL where a \(T.self) is required" : "not a \(T.self)")
        }
    }

    /// Whether the column holds NULL (a LEFT JOIN that found nothing), whatever its type.
    func isNull(_ name: String) throws -> Bool { try cell(name).bytes == nil }

    func timestamp(_ name: String) throws -> Timestamp { Timestamp(millisecondsSince1970: try value(name, as: Int64.self)) }

    func optionalTimestamp(_ name: String) throws -> Timestamp? {
        try value(name, as: Int64?.self).map(Timestamp.init(millisecondsSince1970:))
    }

    /// A value of a string enumeration; a stored value the enumeration does not know throws.
    func enumeration<T: RawRepresentable>(_ name: String, as type: T.Type = T.self) throws -> T where T.RawValue == String {
        let raw = try value(name, as: String.self)
        guard let known = T(rawValue: raw) else { throw StoreRowError(column: name, problem: "unknown value \(raw)") }
        return known
    }

    /// Stored JSON text, parsed.
    func json(_ name: String) throws -> JSONValue { try Self.parsed(try value(name, as: String.self), column: name) }

    func optionalJSON(_ name: String) throws -> JSONValue? {
        try value(name, as: String?.self).map { try Self.parsed($0, column: name) }
    }

    private func cell(_ name: String) throws -> PostgresCell {
        // The name subscript stops the process on an unknown name: check first.
        guard contains(name) else { throw StoreRowError(column: name, problem: "missing from the query") }
        return self[name]
    }

    private static func parsed(_ text: String, column: String) throws -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw StoreRowError(column: column, problem: "not JSON")
        }
    }
}

/// One entity's part of a joined row, its columns aliased `"<prefix>name"` (see
/// ``PostgresQuery/StringInterpolation/appendInterpolation(columns:of:prefixed:)``): each reader
/// prepends the prefix, so that one decoder reads the entity alone (no prefix) or within a join.
struct PostgresColumns {
    let row: PostgresRandomAccessRow
    let prefix: String

    init(_ row: PostgresRandomAccessRow, prefix: String = "") {
        self.row = row
        self.prefix = prefix
    }

    func value<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T { try row.value(prefix + name, as: type) }

    func isNull(_ name: String) throws -> Bool { try row.isNull(prefix + name) }

    func timestamp(_ name: String) throws -> Timestamp { try row.timestamp(prefix + name) }

    func optionalTimestamp(_ name: String) throws -> Timestamp? { try row.optionalTimestamp(prefix + name) }

    func enumeration<T: RawRepresentable>(_ name: String, as type: T.Type = T.self) throws -> T where T.RawValue == String {
        try row.enumeration(prefix + name, as: type)
    }

    func json(_ name: String) throws -> JSONValue { try row.json(prefix + name) }

    func optionalJSON(_ name: String) throws -> JSONValue? { try row.optionalJSON(prefix + name) }
}

extension PostgresQuery.StringInterpolation {
    /// `columns` as a SELECT list (``Swift/Array/selectList(of:prefixed:)``).
    mutating func appendInterpolation(columns: [String], of table: String? = nil, prefixed prefix: String = "") {
        appendLiteral(columns.selectList(of: table, prefixed: prefix))
    }
}
