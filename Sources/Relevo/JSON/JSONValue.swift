/// A JSON document as Relevo reads and writes it.
///
/// Objects keep their members in order (an array of pairs, not a dictionary) because the wire
/// contract fixes the key order of every body Relevo sends, and because user-supplied objects
/// (`metadata`) must come back out in the order JavaScript would enumerate them.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// Equal as JavaScript would find the two documents: strings and member names by their code
    /// points, so texts that differ only in Unicode normalization are different (Swift's `==` on
    /// `String` would call them equal).
    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a.hasSameCodePoints(as: b)
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key.hasSameCodePoints(as: $1.key) && $0.value == $1.value }
        default: return false
        }
    }

    /// The member named exactly `key` of an object, or nil (also nil when `self` is not an object).
    /// Exactly: a member whose name is only canonically equivalent (`"\u212A"`, the Kelvin sign, for `K`)
    /// is another member, as it is for JavaScript.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key.hasSameCodePoints(as: key) })?.value
    }

    /// Builds an object from members in the order given; `nil` values are left out, which is how
    /// optional fields are omitted from responses.
    package static func members(_ pairs: KeyValuePairs<String, JSONValue?>) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(pairs.count)  // one allocation (compactMap would grow it several times)
        for (key, value) in pairs { if let value { members.append((key: key, value: value)) } }
        return .object(members)
    }

    /// The string, when this is one.
    package var stringValue: String? { if case .string(let text) = self { text } else { nil } }

    package var isObject: Bool { if case .object = self { true } else { false } }

    /// A short name of the JSON type, for validation messages.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral {
    package init(stringLiteral value: String) { self = .string(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(integerLiteral value: Int) { self = .number(Double(value)) }
}
