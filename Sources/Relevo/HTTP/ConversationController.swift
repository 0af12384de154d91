import Hummingbird

/// The Conversation API (E6–E8) and the channel's inbound messages (§7.3): reads each body into
/// the service's typed request, every problem collected, and renders the answer.
struct ConversationController {
    let conversations: ConversationService

    func register(in routes: inout RouteTable) {
        routes.project(.post, "external-support/:projectId/conversations/start", start)
        routes.project(.post, "external-support/:projectId/conversations/close", close)
        routes.project(.get, "external-support/:projectId/conversations", list)
        routes.project(.get, "external-support/:projectId/conversations/:conversationId", get)
        routes.project(.post, "projects/:projectId/channel/messages", channelMessage)
    }

    @Sendable func start(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        let botId = fields.identifier("botId"), userId = fields.identifier("userId")
        let initialMessage = fields.string("initialMessage", maximum: MessageValue.maximumTextLength)
        if initialMessage?.isEmpty == true { fields.required("initialMessage") }
        let metadata = Self.metadata(fields)
        let assignment = Self.assignment(fields)
        guard let botId, let userId, fields.problems.isEmpty else { throw DomainError.invalidFields(fields.problems) }
        let view = try await conversations.start(
            projectId: context.projectId,
            ConversationStart(
                botId: botId, userId: userId, initialMessage: initialMessage, metadata: metadata, assignment: assignment))
        return JSONResponse.success("Conversation started successfully", data: view.json)
    }

    @Sendable func close(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        let botId = fields.identifier("botId"), userId = fields.identifier("userId")
        let redirect = Self.redirect(fields)
        guard let botId, let userId, fields.problems.isEmpty else { throw DomainError.invalidFields(fields.problems) }
        let view = try await conversations.close(projectId: context.projectId, ConversationClose(botId: botId, userId: userId, redirect: redirect))
        return JSONResponse.success("Conversation closed successfully", data: view.json)
    }

    @Sendable func get(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let id = try PathParameter.identifier("conversationId", request, context)
        let include = request.uri.queryParameters.get("include")?.split(separator: ",").contains("messages") ?? false
        let view = try await conversations.get(projectId: context.projectId, conversationId: id, includeMessages: include)
        return JSONResponse.success("Conversation retrieved successfully", data: view.json)
    }

    @Sendable func list(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let page = try await conversations.list(projectId: context.projectId, Self.listQuery(request))
        return JSONResponse.success(
            "Conversations retrieved successfully",
            data: .members([
                "conversations": .array(page.conversations.map(\.json)),
                "nextCursor": page.nextCursor.map(JSONValue.string) ?? .null,
            ]))
    }

    /// The list's query parameters, every problem collected (the cursor is checked by the service).
    private static func listQuery(_ request: Request) -> ConversationService.ListQuery {
        let parameters = request.uri.queryParameters
        var query = ConversationService.ListQuery()
        var problems = ValidationErrors()
        if let state = parameters.get("state") {
            query.filter.state = Conversation.State(rawValue: state)
            if query.filter.state == nil {
                problems.add(
                    "state",
                    LocalizedText(en: "state must be active or closed", es: "state debe ser active o closed", pt: "state deve ser active ou closed"))
            }
        }
        for (name, keyPath) in [("botId", \ConversationFilter.botId), ("userId", \ConversationFilter.userId)] {
            guard let id = parameters.get(name) else { continue }
            if Identifier.isValid(id) { query.filter[keyPath: keyPath] = id } else { problems.invalidIdentifier(name) }
        }
        query.page = PageQuery.read(parameters, problems: &problems)
        query.problems = problems
        return query
    }

    @Sendable func channelMessage(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let receipt = try await conversations.receiveFromChannel(
            projectId: context.projectId, try Self.channelMessage(FieldReader(try await RequestBody.jsonObject(request))))
        return JSONResponse.success("Message received", canonicalData: receipt.data)
    }

    /// A §7.3 body: the bot, the user (and the name to give them), and the message value.
    static func channelMessage(_ fields: FieldReader) throws -> ChannelMessage {
        let botId = fields.identifier("botId"), userId = fields.identifier("userId")
        let userName = fields.string("userName", maximum: 256)
        fields.refuseNul("userName", in: userName)
        let value = fields.messageValue()
        guard let botId, let userId, let value, fields.problems.isEmpty else { throw DomainError.invalidFields(fields.problems) }
        return ChannelMessage(botId: botId, userId: userId, userName: userName, value: value)
    }

    /// Any object of at most 16 KiB once serialized.
    private static func metadata(_ fields: FieldReader) -> JSONValue? {
        guard let value = fields.object("metadata")?.body else { return nil }
        if CanonicalJSONWriter.bytes(value).count > ConversationService.maximumMetadataBytes {
            fields.add(
                "metadata",
                LocalizedText(
                    en: "metadata must be at most 16 KiB once serialized", es: "metadata debe ocupar como máximo 16 KiB serializado",
                    pt: "metadata deve ter no máximo 16 KiB serializado"))
        }
        return value
    }

    /// `{"type": "queue" | "operator" | "team", "target": 1–256 characters}`, rebuilt with only those keys.
    private static func assignment(_ fields: FieldReader) -> JSONValue? {
        guard let assignment = fields.object("assignment") else { return nil }
        guard case .string(let type)? = assignment.body["type"], ["queue", "operator", "team"].contains(type) else {
            assignment.add(
                "type",
                LocalizedText(
                    en: "assignment.type must be one of queue, operator, team", es: "assignment.type debe ser uno de queue, operator, team",
                    pt: "assignment.type deve ser um de queue, operator, team"))
            return nil
        }
        guard case .string(let target)? = assignment.body["target"], !target.isEmpty, target.javaScriptLength <= 256 else {
            assignment.add(
                "target",
                LocalizedText(
                    en: "assignment.target must be a string of 1-256 characters", es: "assignment.target debe ser un texto de 1 a 256 caracteres",
                    pt: "assignment.target deve ser um texto de 1 a 256 caracteres"))
            return nil
        }
        return .members(["type": .string(type), "target": .string(target)])
    }

    /// `redirectPayload`: a last text for the end user, or the bot's edge to resume at.
    private static func redirect(_ fields: FieldReader) -> ConversationClose.Redirect? {
        guard let redirect = fields.object("redirectPayload") else { return nil }
        switch redirect.body["type"] {
        case .string("text")?:
            guard case .string(let text)? = redirect.body["text"], !text.isEmpty else { redirect.required("text"); return nil }
            if text.javaScriptLength > MessageValue.maximumTextLength {
                redirect.tooLong("text", maximum: MessageValue.maximumTextLength)
                return nil
            }
            return .text(text)
        case .string("edge")?:
            guard case .string(let edgeId)? = redirect.body["edgeId"], Identifier.isValid(edgeId) else {
                redirect.invalidIdentifier("edgeId")
                return nil
            }
            return .edge(id: edgeId)
        default:
            redirect.add(
                "type",
                LocalizedText(
                    en: "redirectPayload.type must be text or edge", es: "redirectPayload.type debe ser text o edge",
                    pt: "redirectPayload.type deve ser text ou edge"))
            return nil
        }
    }
}
