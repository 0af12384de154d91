/// Why a request body could not be used at all (400 `BAD_REQUEST`), in the envelope's three languages.
///
/// The parser's own account of malformed JSON (`unexpected character`, `duplicate key "a"`) is
/// English only: it goes in the envelope's `description`, and the localized messages name the byte
/// where it stopped, which is what a developer needs in any language.
package enum BodyProblem: Sendable, Equatable {
    /// No body, or JSON that is not an object (`found`: its ``JSONValue/typeName``, `array`, `string`…).
    case notAnObject(found: String?)
    case malformedJSON(JSONParser.Failure)
    /// The connection ended, or the framing broke, before the body did.
    case cutShort

    /// One sentence for `description`, with every detail known.
    var detail: String {
        switch self {
        case .notAnObject(nil): "the request body must be a JSON object"
        case .notAnObject(let found?): "the request body must be a JSON object, not \(found)"
        case .malformedJSON(let failure): "the request body is not valid JSON: \(failure.reason) at byte \(failure.offset)"
        case .cutShort: "the request body could not be read to its end"
        }
    }

    /// `developerMessages`: the English one is ``detail``.
    var text: LocalizedText {
        let (es, pt) =
            switch self {
            case .notAnObject:
                ("El cuerpo de la solicitud debe ser un objeto JSON", "O corpo da requisição deve ser um objeto JSON")
            case .malformedJSON(let failure):
                (
                    "El cuerpo de la solicitud no es JSON válido (byte \(failure.offset))",
                    "O corpo da requisição não é um JSON válido (byte \(failure.offset))"
                )
            case .cutShort:
                ("No se pudo leer el cuerpo de la solicitud hasta el final", "Não foi possível ler o corpo da requisição até o fim")
            }
        return LocalizedText(en: detail, es: es, pt: pt)
    }
}
