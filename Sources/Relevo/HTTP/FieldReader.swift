/// Reads the fields of a JSON request body into typed values, collecting every problem with its
/// en/es/pt text rather than stopping at the first: `validationError` names every offending field.
///
/// Unknown fields are ignored and `null` counts as absent (§1.2). A nested object is read by a
/// reader of its own (``object(_:)``), whose problems are named `outer.inner` and collected with
/// its parent's.
struct FieldReader {
    let body: JSONValue
    /// Prepended to every field name in problems (`value.`, `value.content.`).
    private let path: String
    private let sink: Problems

    init(_ body: JSONValue) {
        self.init(body, path: "", sink: Problems())
    }

    private init(_ body: JSONValue, path: String, sink: Problems) {
        self.body = body
        self.path = path
        self.sink = sink
    }

    /// Everything found wrong so far, by this reader and every reader of a nested object.
    var problems: ValidationErrors { sink.errors }

    /// Throws ``DomainError/invalidFields(_:)`` when anything was found wrong.
    func check() throws {
        try sink.errors.check()
    }

    /// The field as sent; nil when absent or `null`.
    func value(_ key: String) -> JSONValue? {
        guard let value = body[key], value != .null else { return nil }
        return value
    }

    /// The name problems with `key` are reported under (`value.content.url`).
    func name(_ key: String) -> String { path + key }

    /// Whether the field is in the body at all (`null` included).
    func isPresent(_ key: String) -> Bool { body[key] != nil }

    func add(_ key: String, _ text: LocalizedText) { sink.errors.add(path + key, text) }
    func required(_ key: String) { sink.errors.required(path + key) }
    func wrongType(_ key: String, expected: String) { sink.errors.wrongType(path + key, expected: expected) }
    func tooLong(_ key: String, maximum: Int) { sink.errors.tooLong(path + key, maximum: maximum) }
    func invalidIdentifier(_ key: String) { sink.errors.invalidIdentifier(path + key) }
    func refuseNul(_ key: String, in text: String?) { sink.errors.refuseNul(path + key, in: text) }

    /// An optional string of at most `maximum` UTF-16 code units.
    func string(_ key: String, maximum: Int? = nil) -> String? {
        switch body[key] {
        case nil, .null?: return nil
        case .string(let text)?:
            if let maximum, text.javaScriptLength > maximum { tooLong(key, maximum: maximum) }
            return text
        default: wrongType(key, expected: "string"); return nil
        }
    }

    /// A non-empty string of at most `maximum` UTF-16 code units.
    func requiredString(_ key: String, maximum: Int) -> String? {
        switch body[key] {
        case .string(let text)? where !text.isEmpty:
            if text.javaScriptLength > maximum { tooLong(key, maximum: maximum) }
            return text
        case nil, .null?, .string?: required(key); return nil
        default: wrongType(key, expected: "string"); return nil
        }
    }

    /// A required id under the §9 rule.
    func identifier(_ key: String) -> String? {
        switch body[key] {
        case .string(let text)? where Identifier.isValid(text): return text
        case nil, .null?: required(key); return nil
        default: invalidIdentifier(key); return nil
        }
    }

    /// A nested object, read by a reader whose problems are named `key.…`; nil when absent, `null`
    /// or not an object (the last reported).
    func object(_ key: String) -> FieldReader? {
        switch body[key] {
        case nil, .null?: return nil
        case let value? where value.isObject: return FieldReader(value, path: path + key + ".", sink: sink)
        default: wrongType(key, expected: "object"); return nil
        }
    }

    /// The problems every reader of one body adds to.
    private final class Problems {
        var errors = ValidationErrors()
    }
}
