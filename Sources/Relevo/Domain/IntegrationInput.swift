/// The fields of an E1 create or E3 update body, type-checked but not yet validated against the
/// address rule (that needs DNS, so it happens in the service).
struct IntegrationInput {
    var webhookUrl: String?
    var authType: AuthType?
    var authorization: String?

    static let maximumAuthorizationLength = 4096
    /// The order in which `validationError` names the fields.
    static let fieldOrder = ["webhookUrl", "authType", "authorization"]

    /// Reads the known fields of `body`, collecting every type and shape error. Unknown fields are
    /// ignored and `null` counts as absent (§1.2).
    static func read(_ body: JSONValue, into errors: inout ValidationErrors) -> IntegrationInput {
        var input = IntegrationInput()
        input.webhookUrl = string(body, "webhookUrl", &errors)
        if let raw = string(body, "authType", &errors) {
            if let type = AuthType(rawValue: raw) {
                input.authType = type
            } else {
                errors.add("authType", LocalizedText(
                    en: "authType must be one of no_auth, bearer, api_key, basic",
                    es: "authType debe ser uno de no_auth, bearer, api_key, basic",
                    pt: "authType deve ser um de no_auth, bearer, api_key, basic"))
            }
        }
        input.authorization = string(body, "authorization", &errors)
        return input
    }

    private static func string(_ body: JSONValue, _ field: String, _ errors: inout ValidationErrors) -> String? {
        switch body[field] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case _?: errors.wrongType(field, expected: "string"); return nil
        }
    }

    /// Checks a credential for `type`; the value is only checked when the type needs one.
    static func checkAuthorization(_ value: String?, for type: AuthType, into errors: inout ValidationErrors) {
        guard type.needsCredential else { return }
        guard let value else {
            errors.add("authorization", LocalizedText(
                en: "authorization is required when authType is \(type.rawValue)",
                es: "authorization es obligatorio cuando authType es \(type.rawValue)",
                pt: "authorization é obrigatório quando authType é \(type.rawValue)"))
            return
        }
        if value.isEmpty {
            errors.add("authorization", LocalizedText(
                en: "authorization must not be empty", es: "authorization no puede estar vacío",
                pt: "authorization não pode estar vazio"))
        }
        if value.javaScriptLength > maximumAuthorizationLength { errors.tooLong("authorization", maximum: maximumAuthorizationLength) }
        // It becomes a header value: line breaks would split the request (header injection), and
        // HTTP allows no other control character there but tab.
        if value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            errors.add("authorization", LocalizedText(
                en: "authorization must not contain line breaks or other control characters",
                es: "authorization no debe contener saltos de línea ni otros caracteres de control",
                pt: "authorization não deve conter quebras de linha nem outros caracteres de controle"))
        }
        if type == .basic, !value.isEmpty, PanelCredential.basicToken(value) == nil {
            errors.add("authorization", LocalizedText(
                en: "for basic, authorization must be user:password or its Base64 encoding",
                es: "para basic, authorization debe ser usuario:contraseña o su codificación Base64",
                pt: "para basic, authorization deve ser usuário:senha ou sua codificação Base64"))
        }
    }
}
