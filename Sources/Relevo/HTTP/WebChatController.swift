import Hummingbird

/// A bot's web chat settings (the API side; the widget's own routes are ``WidgetController``).
struct WebChatController {
    let webChats: WebChatService

    func register(in routes: inout RouteTable) {
        routes.project(.put, "projects/:projectId/bots/:botId/webchat", put)
        routes.project(.get, "projects/:projectId/bots/:botId/webchat", get)
        routes.project(.delete, "projects/:projectId/bots/:botId/webchat", delete)
        routes.project(.post, "projects/:projectId/bots/:botId/webchat/identity-secret", regenerateIdentitySecret)
    }

    /// Enables the web chat, or changes the fields sent (absent fields keep their value).
    @Sendable func put(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let botId = try PathParameter.identifier("botId", request, context)
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        var settings = WebChatService.Settings()
        switch fields.value("allowedOrigins") {
        case nil: break
        case .array(let items)?:
            settings.allowedOrigins = items.enumerated().map { index, item in
                if case .string(let text) = item { return text }
                fields.wrongType("allowedOrigins[\(index)]", expected: "string")
                return ""
            }
        default: fields.wrongType("allowedOrigins", expected: "array")
        }
        if let start = fields.string("start") {
            if let mode = WebChat.Start(rawValue: start) {
                settings.start = mode
            } else {
                fields.add(
                    "start",
                    LocalizedText(
                        en: "start must be one of first_message, button", es: "start debe ser uno de first_message, button",
                        pt: "start deve ser um de first_message, button"))
            }
        }
        if fields.isPresent("greeting") {
            let greeting = fields.string("greeting", maximum: WebChatService.maximumGreetingLength)
            fields.refuseNul("greeting", in: greeting)
            settings.greeting = .some(greeting)
        }
        switch fields.value("identityVerification") {
        case nil: break
        case .bool(let on)?: settings.identityVerification = on
        default: fields.wrongType("identityVerification", expected: "boolean")
        }
        switch fields.value("agentTimeoutSeconds") {
        case nil: break
        case .number(let seconds)? where seconds.rounded() == seconds && abs(seconds) < 1e9: settings.agentTimeoutSeconds = Int(seconds)
        default: fields.wrongType("agentTimeoutSeconds", expected: "integer")
        }
        settings.problems = fields.problems
        let (chat, secret) = try await webChats.configure(projectId: context.projectId, botId: botId, settings)
        return JSONResponse.success("Web chat saved successfully", data: chat.json(identitySecret: secret))
    }

    @Sendable func get(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let chat = try await webChats.webChat(projectId: context.projectId, botId: try PathParameter.identifier("botId", request, context))
        return JSONResponse.success("Web chat retrieved successfully", data: chat.json())
    }

    @Sendable func delete(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        try await webChats.disable(projectId: context.projectId, botId: try PathParameter.identifier("botId", request, context))
        return JSONResponse.success("Web chat disabled successfully")
    }

    /// A new identity secret, shown once; the previous one stops verifying at once.
    @Sendable func regenerateIdentitySecret(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let botId = try PathParameter.identifier("botId", request, context)
        let (chat, secret) = try await webChats.regenerateIdentitySecret(projectId: context.projectId, botId: botId)
        return JSONResponse.success("Identity secret regenerated successfully", data: chat.json(identitySecret: secret))
    }
}

extension WebChat {
    /// Never the identity secret, except the one a call just made (shown once, after
    /// `identityVerification`); `widgetPath` is what the embedding script tag loads.
    func json(identitySecret shown: String? = nil) -> JSONValue {
        .members([
            "botId": .string(botId),
            "allowedOrigins": .array(allowedOrigins.map(JSONValue.string)),
            "start": .string(start.rawValue),
            "greeting": greeting.map(JSONValue.string) ?? .null,
            "identityVerification": .bool(identitySecret != nil),
            "identitySecret": shown.map(JSONValue.string),
            "agentTimeoutSeconds": .number(Double(agentTimeoutSeconds)),
            "widgetPath": .string("/webchat/\(projectId)/\(botId)/widget.js"),
            "createdAt": .string(createdAt.iso8601), "updatedAt": .string(updatedAt.iso8601),
        ])
    }
}
