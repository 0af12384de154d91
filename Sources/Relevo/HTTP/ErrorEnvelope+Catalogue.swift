import HTTPTypes

extension ErrorEnvelope {
    struct CatalogueEntry {
        let status: HTTPResponse.Status
        let key: String
        let code: String
        let message: String
        let description: String
        let developer: LocalizedText
        let client: LocalizedText
    }

    private static let genericClient = LocalizedText(
        en: "Something went wrong. Please try again later.",
        es: "Algo salió mal. Inténtalo de nuevo más tarde.",
        pt: "Algo deu errado. Tente novamente mais tarde.")

    private static let slowDown = LocalizedText(
        en: "Slow down: retry after the number of seconds in Retry-After",
        es: "Reduce el ritmo: reintenta tras los segundos indicados en Retry-After",
        pt: "Diminua o ritmo: tente novamente após os segundos indicados em Retry-After")

    private static let invalidDataClient = LocalizedText(
        en: "The data sent is not valid.", es: "Los datos enviados no son válidos.",
        pt: "Os dados enviados não são válidos.")

    /// Wording of every error of the domain, in the three languages of the envelope.
    static func catalogue(_ error: DomainError) -> CatalogueEntry {
        switch error {
        case .unauthorized:
            return CatalogueEntry(
                status: .unauthorized, key: "UNAUTHORIZED", code: "E0401", message: "Unauthorized",
                description: "The x-api-key header is missing, unknown, revoked or not valid for this project",
                developer: LocalizedText(
                    en: "Send a valid x-api-key of this project",
                    es: "Envía una x-api-key válida de este proyecto",
                    pt: "Envie uma x-api-key válida deste projeto"),
                client: LocalizedText(
                    en: "You are not authorized to perform this action.",
                    es: "No estás autorizado para realizar esta acción.",
                    pt: "Você não está autorizado a realizar esta ação."))
        case .integrationNotFound(let projectId):
            return CatalogueEntry(
                status: .notFound, key: "INTEGRATION_NOT_FOUND", code: "E0404", message: "Integration not found",
                description: "No integration exists for project \(projectId)",
                developer: LocalizedText(
                    en: "No integration exists for this project; create one first",
                    es: "No existe una integración para este proyecto; crea una primero",
                    pt: "Não existe uma integração para este projeto; crie uma primeiro"),
                client: LocalizedText(
                    en: "The integration was not found.", es: "No se encontró la integración.",
                    pt: "A integração não foi encontrada."))
        case .integrationAlreadyExists(let projectId):
            return CatalogueEntry(
                status: .conflict, key: "INTEGRATION_ALREADY_EXISTS", code: "E0409",
                message: "Integration already exists",
                description: "Project \(projectId) already has an integration; use PATCH to change it",
                developer: LocalizedText(
                    en: "This project already has an integration; update it with PATCH or delete it first",
                    es: "Este proyecto ya tiene una integración; actualízala con PATCH o elimínala primero",
                    pt: "Este projeto já possui uma integração; atualize-a com PATCH ou exclua-a primeiro"),
                client: LocalizedText(
                    en: "The integration already exists.", es: "La integración ya existe.",
                    pt: "A integração já existe."))
        case .invalidFields(let errors):
            return catalogue(RequestError.validationFailed(errors))
        case .notFound(let resource, let id):
            let name = resource.rawValue.lowercased()
            return CatalogueEntry(
                status: .notFound, key: "\(resource.rawValue)_NOT_FOUND", code: "E0404",
                message: "\(name.prefix(1).uppercased() + name.dropFirst()) not found",
                description: "No \(name) \(id.prefix(128)) exists in this project",
                developer: resource.doesNotExist,
                client: LocalizedText(
                    en: "The resource was not found.", es: "No se encontró el recurso.", pt: "O recurso não foi encontrado."))
        case .alreadyExists(let resource, let id):
            return CatalogueEntry(
                status: .conflict, key: "\(resource)_ALREADY_EXISTS", code: "E0409", message: "Already exists",
                description: "\(resource.lowercased()) \(id.prefix(128)) already exists in this project",
                developer: LocalizedText(
                    en: "Choose another id or use the existing resource", es: "Elige otro id o usa el recurso existente",
                    pt: "Escolha outro id ou use o recurso existente"),
                client: LocalizedText(en: "It already exists.", es: "Ya existe.", pt: "Já existe."))
        case .conversationAlreadyActive(let roomId):
            return CatalogueEntry(
                status: .conflict, key: "CONVERSATION_ALREADY_ACTIVE", code: "E0409", message: "Conversation already active",
                description: "Room \(roomId) already has an active conversation",
                developer: LocalizedText(
                    en: "Close the active conversation of this room before starting another",
                    es: "Cierra la conversación activa de esta sala antes de iniciar otra",
                    pt: "Feche a conversa ativa desta sala antes de iniciar outra"),
                client: LocalizedText(
                    en: "A conversation is already in progress.", es: "Ya hay una conversación en curso.",
                    pt: "Já existe uma conversa em andamento."))
        case .conversationNotActive:
            return CatalogueEntry(
                status: .conflict, key: "CONVERSATION_NOT_ACTIVE", code: "E0409", message: "Conversation not active",
                description: "The room has no active conversation",
                developer: LocalizedText(
                    en: "Start a conversation first", es: "Inicia una conversación primero", pt: "Inicie uma conversa primeiro"),
                client: LocalizedText(
                    en: "There is no conversation in progress.", es: "No hay ninguna conversación en curso.",
                    pt: "Não há nenhuma conversa em andamento."))
        case .eventNotRedeliverable(let status):
            return CatalogueEntry(
                status: .conflict, key: "EVENT_NOT_REDELIVERABLE", code: "E0409", message: "Event cannot be redelivered",
                description: "The event is \(status); only delivered or failed events can be redelivered",
                developer: LocalizedText(
                    en: "Only delivered or failed events can be redelivered; this one is still queued or was cancelled",
                    es: "Solo se pueden reenviar eventos entregados o fallidos; este sigue en cola o fue cancelado",
                    pt: "Só eventos entregues ou com falha podem ser reenviados; este ainda está na fila ou foi cancelado"),
                client: LocalizedText(
                    en: "This message cannot be sent again right now.", es: "Este mensaje no se puede reenviar en este momento.",
                    pt: "Esta mensagem não pode ser reenviada agora."))
        case .invalidSignature:
            return CatalogueEntry(
                status: .unauthorized, key: "INVALID_SIGNATURE", code: "E0401", message: "Invalid signature",
                description: "X-Jelou-Signature is missing or does not match the body",
                developer: LocalizedText(
                    en: "Sign the exact raw body with HMAC-SHA256 and the project's signing secret",
                    es: "Firma el cuerpo exacto con HMAC-SHA256 y el secreto de firma del proyecto",
                    pt: "Assine o corpo exato com HMAC-SHA256 e o segredo de assinatura do projeto"),
                client: LocalizedText(
                    en: "You are not authorized to perform this action.",
                    es: "No estás autorizado para realizar esta acción.",
                    pt: "Você não está autorizado a realizar esta ação."))
        case .webChatNotFound(let botId):
            return CatalogueEntry(
                status: .notFound, key: "WEBCHAT_NOT_FOUND", code: "E0404", message: "Web chat not found",
                description: "Bot \(botId.prefix(128)) has no web chat in this project",
                developer: LocalizedText(
                    en: "Enable the bot's web chat first (PUT …/bots/{botId}/webchat)",
                    es: "Activa primero el chat web del bot (PUT …/bots/{botId}/webchat)",
                    pt: "Ative primeiro o chat web do bot (PUT …/bots/{botId}/webchat)"),
                client: LocalizedText(
                    en: "This chat is not available.", es: "Este chat no está disponible.", pt: "Este chat não está disponível."))
        case .originNotAllowed:
            return CatalogueEntry(
                status: .forbidden, key: "ORIGIN_NOT_ALLOWED", code: "E0403", message: "Origin not allowed",
                description: "The page's origin is not among the web chat's allowedOrigins",
                developer: LocalizedText(
                    en: "Add the page's origin to the web chat's allowedOrigins",
                    es: "Añade el origen de la página a allowedOrigins del chat web",
                    pt: "Adicione a origem da página a allowedOrigins do chat web"),
                client: LocalizedText(
                    en: "This chat is not available on this site.", es: "Este chat no está disponible en este sitio.",
                    pt: "Este chat não está disponível neste site."))
        case .visitorUnauthorized:
            return CatalogueEntry(
                status: .unauthorized, key: "VISITOR_UNAUTHORIZED", code: "E0401", message: "Visitor unauthorized",
                description: "The visitor token is missing, expired or not one of this web chat",
                developer: LocalizedText(
                    en: "Get a visitor token (POST …/visitor) and send it as Authorization: Bearer",
                    es: "Obtén un token de visitante (POST …/visitor) y envíalo como Authorization: Bearer",
                    pt: "Obtenha um token de visitante (POST …/visitor) e envie-o como Authorization: Bearer"),
                client: LocalizedText(
                    en: "Your chat has expired. Please reload the page.", es: "Tu chat expiró. Recarga la página.",
                    pt: "Seu chat expirou. Recarregue a página."))
        case .identityNotVerified:
            return CatalogueEntry(
                status: .forbidden, key: "IDENTITY_NOT_VERIFIED", code: "E0403", message: "Identity not verified",
                description: "userHash is not the HMAC-SHA256 of userId under the web chat's identity secret",
                developer: LocalizedText(
                    en: "Compute userHash on your server: hex HMAC-SHA256 of userId with the web chat's identity secret",
                    es: "Calcula userHash en tu servidor: HMAC-SHA256 en hexadecimal de userId con el secreto de identidad del chat web",
                    pt: "Calcule userHash no seu servidor: HMAC-SHA256 em hexadecimal de userId com o segredo de identidade do chat web"),
                client: LocalizedText(
                    en: "We could not confirm who you are. Please sign in again.",
                    es: "No pudimos confirmar quién eres. Inicia sesión de nuevo.",
                    pt: "Não foi possível confirmar quem você é. Entre novamente."))
        }
    }

    /// Wording of every error of the request itself and of the server, in the three languages of the envelope.
    static func catalogue(_ error: RequestError) -> CatalogueEntry {
        switch error {
        case .validationFailed(let errors):
            return CatalogueEntry(
                status: .unprocessableContent, key: "VALIDATOR_ERROR", code: "E0422", message: "Validation failed",
                description: "Invalid fields: \(errors.fieldNames.joined(separator: ", "))",
                developer: LocalizedText(
                    en: "One or more fields are invalid; see validationError",
                    es: "Uno o más campos no son válidos; consulta validationError",
                    pt: "Um ou mais campos são inválidos; veja validationError"),
                client: invalidDataClient)
        case .badRequest(let errors):
            return CatalogueEntry(
                status: .badRequest, key: "BAD_REQUEST", code: "E0400", message: "Bad request",
                description: "Invalid fields: \(errors.fieldNames.joined(separator: ", "))",
                developer: LocalizedText(
                    en: "One or more fields are invalid; see validationError",
                    es: "Uno o más campos no son válidos; consulta validationError",
                    pt: "Um ou mais campos são inválidos; veja validationError"),
                client: invalidDataClient)
        case .unreadableBody(let problem):
            return CatalogueEntry(
                status: .badRequest, key: "BAD_REQUEST", code: "E0400", message: "Bad request",
                description: problem.detail, developer: problem.text, client: invalidDataClient)
        case .payloadTooLarge(let limit):
            return CatalogueEntry(
                status: .contentTooLarge, key: "PAYLOAD_TOO_LARGE", code: "E0413", message: "Payload too large",
                description: "The request body exceeds \(limit) bytes",
                developer: LocalizedText(
                    en: "The request body must be at most \(limit) bytes",
                    es: "El cuerpo de la solicitud debe tener como máximo \(limit) bytes",
                    pt: "O corpo da requisição deve ter no máximo \(limit) bytes"),
                client: invalidDataClient)
        case .unsupportedMediaType:
            return CatalogueEntry(
                status: .unsupportedMediaType, key: "UNSUPPORTED_MEDIA_TYPE", code: "E0415",
                message: "Unsupported media type", description: "The request body must be application/json",
                developer: LocalizedText(
                    en: "Send the body with Content-Type: application/json",
                    es: "Envía el cuerpo con Content-Type: application/json",
                    pt: "Envie o corpo com Content-Type: application/json"),
                client: invalidDataClient)
        case .unsupportedContentCoding(let coding):
            return CatalogueEntry(
                status: .unsupportedMediaType, key: "UNSUPPORTED_MEDIA_TYPE", code: "E0415",
                message: "Unsupported media type", description: "Content-Encoding \(coding.prefix(64)) is not supported",
                developer: LocalizedText(
                    en: "Send the body uncompressed, without Content-Encoding",
                    es: "Envía el cuerpo sin comprimir, sin Content-Encoding",
                    pt: "Envie o corpo sem compressão, sem Content-Encoding"),
                client: invalidDataClient)
        case .unsupportedTransferCoding(let coding):
            return CatalogueEntry(
                status: .notImplemented, key: "NOT_IMPLEMENTED", code: "E0501",
                message: "Not implemented", description: "Transfer-Encoding \(coding.prefix(64)) is not supported",
                developer: LocalizedText(
                    en: "Send the body with Content-Length or Transfer-Encoding: chunked alone",
                    es: "Envía el cuerpo con Content-Length o solo con Transfer-Encoding: chunked",
                    pt: "Envie o corpo com Content-Length ou apenas com Transfer-Encoding: chunked"),
                client: invalidDataClient)
        case .rateLimited(let seconds, .webChat):
            return CatalogueEntry(
                status: .tooManyRequests, key: "RATE_LIMITED", code: "E0429", message: "Too many requests",
                description: "The web chat's budget of this visitor or client address is spent; retry after \(seconds) s",
                developer: slowDown,
                client: LocalizedText(
                    en: "You are sending messages too fast. Please wait a moment.",
                    es: "Estás enviando mensajes demasiado rápido. Espera un momento.",
                    pt: "Você está enviando mensagens rápido demais. Aguarde um momento."))
        case .rateLimited(let seconds, .apiKey):
            return CatalogueEntry(
                status: .tooManyRequests, key: "RATE_LIMITED", code: "E0429", message: "Too many requests",
                description: "The request budget of this API key is spent; retry after \(seconds) s",
                developer: slowDown,
                client: genericClient)
        case .routeNotFound(let path):
            return CatalogueEntry(
                status: .notFound, key: "NOT_FOUND", code: "E0404", message: "Route not found",
                description: "No route matches \(path.prefix(256))",
                developer: LocalizedText(
                    en: "No route matches this path; see /openapi.yaml",
                    es: "Ninguna ruta coincide con esta dirección; consulta /openapi.yaml",
                    pt: "Nenhuma rota corresponde a este caminho; veja /openapi.yaml"),
                client: LocalizedText(
                    en: "The resource was not found.", es: "No se encontró el recurso.",
                    pt: "O recurso não foi encontrado."))
        case .methodNotAllowed(let method, let allowed):
            return CatalogueEntry(
                status: .methodNotAllowed, key: "METHOD_NOT_ALLOWED", code: "E0405", message: "Method not allowed",
                description: "\(method.prefix(32)) is not allowed here; allowed: \(allowed.joined(separator: ", "))",
                developer: LocalizedText(
                    en: "Use one of the methods in the Allow header",
                    es: "Usa uno de los métodos del encabezado Allow",
                    pt: "Use um dos métodos do cabeçalho Allow"),
                client: genericClient)
        case .storeUnavailable:
            return CatalogueEntry(
                status: .serviceUnavailable, key: "SERVICE_UNAVAILABLE", code: "E0503", message: "Service unavailable",
                description: "The store cannot take this request right now",
                developer: LocalizedText(
                    en: "The store cannot take this request right now; send it again after the seconds in Retry-After",
                    es: "El almacenamiento no puede aceptar esta solicitud ahora; reenvíala tras los segundos indicados en Retry-After",
                    pt: "O armazenamento não pode aceitar esta solicitação agora; reenvie-a após os segundos indicados em Retry-After"),
                client: genericClient)
        case .internalError:
            return CatalogueEntry(
                status: .internalServerError, key: "UNKNOWN_ERROR", code: "E0000", message: "Internal error",
                description: "An unexpected error occurred",
                developer: LocalizedText(
                    en: "An unexpected error occurred; the server log has the details",
                    es: "Ocurrió un error inesperado; el registro del servidor tiene los detalles",
                    pt: "Ocorreu um erro inesperado; o log do servidor tem os detalhes"),
                client: genericClient)
        }
    }
}
