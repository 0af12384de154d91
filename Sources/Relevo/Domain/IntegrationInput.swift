/// The fields of an E1 create or E3 update, as the HTTP layer read them, with the fields it could
/// not read: the service adds what its own rules find (the address rule needs DNS; whether a
/// credential is needed can depend on the stored integration) and reports them all together.
package struct IntegrationInput: Sendable {
    package var webhookUrl: String?
    package var authType: AuthType?
    package var authorization: String?
    /// Fields that could not be read (wrong type, unknown value, missing).
    package var problems = ValidationErrors()

    package init(webhookUrl: String? = nil, authType: AuthType? = nil, authorization: String? = nil) {
        self.webhookUrl = webhookUrl
        self.authType = authType
        self.authorization = authorization
    }

    static let maximumAuthorizationLength = 4096
    /// The order in which `validationError` names the fields.
    static let fieldOrder = ["webhookUrl", "authType", "authorization"]

    /// Checks a credential for `type`; the value is only checked when the type needs one.
    static func checkAuthorization(_ value: String?, for type: AuthType, into errors: inout ValidationErrors) {
        guard type.needsCredential else { return }
        guard let value else {
            errors.add(
                "authorization",
                LocalizedText(
                    en: "authorization is required when authType is \(type.rawValue)",
                    es: "authorization es obligatorio cuando authType es \(type.rawValue)",
                    pt: "authorization é obrigatório quando authType é \(type.rawValue)"))
            return
        }
        if value.isEmpty {
            errors.add(
                "authorization",
                LocalizedText(
                    en: "authorization must not be empty", es: "authorization no puede estar vacío",
                    pt: "authorization não pode estar vazio"))
        }
        if value.javaScriptLength > maximumAuthorizationLength { errors.tooLong("authorization", maximum: maximumAuthorizationLength) }
        // It becomes a header value: line breaks would split the request (header injection), and
        // HTTP allows no other control character there but tab.
        if value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            errors.add(
                "authorization",
                LocalizedText(
                    en: "authorization must not contain line breaks or other control characters",
                    es: "authorization no debe contener saltos de línea ni otros caracteres de control",
                    pt: "authorization não deve conter quebras de linha nem outros caracteres de controle"))
        }
        if type == .basic, !value.isEmpty, PanelCredential.basicToken(value) == nil {
            errors.add(
                "authorization",
                LocalizedText(
                    en: "for basic, authorization must be user:password or its Base64 encoding",
                    es: "para basic, authorization debe ser usuario:contraseña o su codificación Base64",
                    pt: "para basic, authorization deve ser usuário:senha ou sua codificação Base64"))
        }
    }
}
