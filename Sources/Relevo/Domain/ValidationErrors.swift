/// Every offending field of a request, with what is wrong with each, in en/es/pt.
///
/// Validators collect all failures instead of stopping at the first, because the contract says
/// `validationError` names every offending field.
package struct ValidationErrors: Sendable, Equatable {
    package private(set) var fields: [(name: String, messages: [LocalizedText])] = []

    package init() {}

    package var isEmpty: Bool { fields.isEmpty }
    package var fieldNames: [String] { fields.map(\.name) }

    package mutating func add(_ field: String, _ message: LocalizedText) {
        if let index = fields.firstIndex(where: { $0.name == field }) {
            fields[index].messages.append(message)
        } else {
            fields.append((name: field, messages: [message]))
        }
    }

    /// The same errors with fields in `order` (fields not listed keep their place after those),
    /// so that `validationError` lists fields in the documented order whatever order checks ran in.
    package func ordered(_ order: [String]) -> ValidationErrors {
        var copy = self
        copy.fields.sort { (order.firstIndex(of: $0.name) ?? order.count) < (order.firstIndex(of: $1.name) ?? order.count) }
        return copy
    }

    /// Throws ``DomainError/invalidFields(_:)`` when anything was added.
    package func check() throws(DomainError) {
        if !isEmpty { throw .invalidFields(self) }
    }

    package static func == (lhs: ValidationErrors, rhs: ValidationErrors) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.messages == $1.messages }
    }
}

extension ValidationErrors {
    mutating func required(_ field: String) {
        add(
            field,
            LocalizedText(
                en: "\(field) is required", es: "\(field) es obligatorio", pt: "\(field) é obrigatório"))
    }

    mutating func wrongType(_ field: String, expected: String) {
        add(
            field,
            LocalizedText(
                en: "\(field) must be a \(expected)", es: "\(field) debe ser de tipo \(expected)",
                pt: "\(field) deve ser do tipo \(expected)"))
    }

    mutating func tooLong(_ field: String, maximum: Int) {
        add(
            field,
            LocalizedText(
                en: "\(field) must be at most \(maximum) characters",
                es: "\(field) debe tener como máximo \(maximum) caracteres",
                pt: "\(field) deve ter no máximo \(maximum) caracteres"))
    }

    /// For names kept as plain text by the stores: PostgreSQL's `text` cannot hold U+0000 (the write
    /// would fail, a 500), and SQLite's API cuts the text there.
    mutating func refuseNul(_ field: String, in text: String?) {
        guard let text, text.utf8.contains(0) else { return }
        add(
            field,
            LocalizedText(
                en: "\(field) must not contain the NUL character (U+0000)",
                es: "\(field) no debe contener el carácter NUL (U+0000)",
                pt: "\(field) não deve conter o caractere NUL (U+0000)"))
    }

    mutating func invalidIdentifier(_ field: String) {
        add(
            field,
            LocalizedText(
                en: "\(field) must be 1-128 characters of letters, digits, '.', '_', ':' or '-'",
                es: "\(field) debe tener de 1 a 128 caracteres: letras, dígitos, '.', '_', ':' o '-'",
                pt: "\(field) deve ter de 1 a 128 caracteres: letras, dígitos, '.', '_', ':' ou '-'"))
    }

    mutating func reservedIdentifier(_ field: String, reserved: [String]) {
        let list = reserved.map { "'\($0)'" }.joined(separator: ", ")
        add(
            field,
            LocalizedText(
                en: "\(field) must not be one of \(list): the API's paths cannot reach a project with such an id",
                es: "\(field) no puede ser \(list): las rutas de la API no llegan a un proyecto con ese id",
                pt: "\(field) não pode ser \(list): os caminhos da API não alcançam um projeto com esse id"))
    }
}
