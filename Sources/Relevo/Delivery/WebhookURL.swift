/// A webhook address that passed the syntactic part of the E1 rule.
///
/// Parsed by hand rather than with Foundation's `URL`, which accepts (and silently repairs) far
/// more than the contract allows; here every rejection has a precise reason.
package struct WebhookURL: Sendable, Equatable {
    package let text: String
    package let scheme: String
    /// The host as written, without brackets for IPv6 literals, lowercased.
    package let host: String
    package let port: Int
    /// What the request line asks for: the path and query as written, `/` when there is no path.
    package let requestTarget: String
    /// The `Host` header: the port only when it is not the scheme's default, IPv6 literals in brackets.
    package let hostHeader: String

    package static let maximumLength = 2048

    /// Why an address was refused; each has wording in the three languages.
    package enum Problem: Error, Sendable, Equatable {
        case empty, tooLong, notAbsolute, schemeNotAllowed(String), missingHost, userInfo, fragment
        case invalidCharacters, invalidPort, invalidHost
        case blockedAddress(String), blockedHostName
    }

    /// Parses `text`; `allowHTTP` is the development flag's relaxation.
    package static func parse(_ text: String, allowHTTP: Bool) throws(Problem) -> WebhookURL {
        guard !text.isEmpty else { throw .empty }
        guard text.javaScriptLength <= maximumLength else { throw .tooLong }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { throw .invalidCharacters }
        // Searched on the UTF-8 view, without Foundation's costly `range(of:)`.
        guard let schemeEnd = text.utf8.firstRange(of: "://".utf8) else { throw .notAbsolute }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || (allowHTTP && scheme == "http") else { throw .schemeNotAllowed(scheme) }
        guard !text.utf8.contains(UInt8(ascii: "#")) else { throw .fragment }
        let rest = text[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard !authority.contains("@") else { throw .userInfo }
        guard !authority.isEmpty else { throw .missingHost }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidHost }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidHost }
                portText = after.dropFirst()
            }
            guard IPAddress(host) != nil, host.contains(":") else { throw .invalidHost }
        } else {
            let pieces = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = pieces[0]
            if pieces.count > 1 { portText = pieces[1] }
            guard isValidHostName(host) else { throw .invalidHost }
        }
        guard !host.isEmpty else { throw .missingHost }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value), portText.allSatisfy(\.isASCII) else { throw .invalidPort }
            port = value
        }
        let target = rest[authority.endIndex...]
        let lowered = host.lowercased()
        let name = lowered.contains(":") ? "[\(lowered)]" : lowered
        return WebhookURL(
            text: text, scheme: scheme, host: lowered, port: port,
            requestTarget: target.isEmpty ? "/" : target.hasPrefix("?") ? "/" + target : String(target),
            hostHeader: port == (scheme == "https" ? 443 : 80) ? name : "\(name):\(port)")
    }

    /// LDH labels separated by dots (underscores tolerated, as some internal DNS uses them).
    private static func isValidHostName(_ host: Substring) -> Bool {
        guard !host.isEmpty, host.count <= 253 else { return false }
        let labels =
            host.hasSuffix(".")
            ? host.dropLast().split(separator: ".", omittingEmptySubsequences: false)
            : host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        }
    }
}

extension WebhookURL.Problem {
    /// The reason in en/es/pt, for `validationError`.
    var text: LocalizedText {
        switch self {
        case .empty:
            LocalizedText(en: "webhookUrl must not be empty", es: "webhookUrl no puede estar vacío", pt: "webhookUrl não pode estar vazio")
        case .tooLong:
            LocalizedText(
                en: "webhookUrl must be at most 2048 characters", es: "webhookUrl debe tener como máximo 2048 caracteres",
                pt: "webhookUrl deve ter no máximo 2048 caracteres")
        case .notAbsolute:
            LocalizedText(
                en: "webhookUrl must be an absolute URL", es: "webhookUrl debe ser una URL absoluta", pt: "webhookUrl deve ser uma URL absoluta")
        case .schemeNotAllowed:
            LocalizedText(en: "webhookUrl must use https", es: "webhookUrl debe usar https", pt: "webhookUrl deve usar https")
        case .missingHost:
            LocalizedText(en: "webhookUrl must have a host", es: "webhookUrl debe tener un host", pt: "webhookUrl deve ter um host")
        case .userInfo:
            LocalizedText(
                en: "webhookUrl must not contain credentials (user:password@)", es: "webhookUrl no debe contener credenciales (usuario:contraseña@)",
                pt: "webhookUrl não deve conter credenciais (usuário:senha@)")
        case .fragment:
            LocalizedText(
                en: "webhookUrl must not contain a fragment (#)", es: "webhookUrl no debe contener un fragmento (#)",
                pt: "webhookUrl não deve conter um fragmento (#)")
        case .invalidCharacters:
            LocalizedText(
                en: "webhookUrl contains spaces or characters that are not allowed", es: "webhookUrl contiene espacios o caracteres no permitidos",
                pt: "webhookUrl contém espaços ou caracteres não permitidos")
        case .invalidPort:
            LocalizedText(en: "webhookUrl has an invalid port", es: "webhookUrl tiene un puerto no válido", pt: "webhookUrl tem uma porta inválida")
        case .invalidHost:
            LocalizedText(en: "webhookUrl has an invalid host", es: "webhookUrl tiene un host no válido", pt: "webhookUrl tem um host inválido")
        case .blockedAddress(let kind):
            LocalizedText(
                en: "webhookUrl points to a \(kind) address, which is not allowed",
                es: "webhookUrl apunta a una dirección \(kind), lo cual no está permitido",
                pt: "webhookUrl aponta para um endereço \(kind), o que não é permitido")
        case .blockedHostName:
            LocalizedText(
                en: "webhookUrl points to a local or metadata host name, which is not allowed",
                es: "webhookUrl apunta a un nombre de host local o de metadatos, lo cual no está permitido",
                pt: "webhookUrl aponta para um nome de host local ou de metadados, o que não é permitido")
        }
    }
}
