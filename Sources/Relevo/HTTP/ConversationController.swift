import Hummingbird

/// The Conversation API (E6–E8) and the channel's inbound messages (§7.3).
struct ConversationController {
    let conversations: ConversationService

    func register(in routes: inout RouteTable) {
        routes.project(.post, "external-support/:projectId/conversations/start", start)
        routes.project(.post, "external-support/:projectId/conversations/close", close)
        routes.project(.get, "external-support/:projectId/conversations/:conversationId", get)
        routes.project(.post, "projects/:projectId/channel/messages", channelMessage)
    }

    @Sendable func start(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let view = try await conversations.start(projectId: context.projectId, body: try await RequestBody.jsonObject(request))
        return JSONResponse.success("Conversation started successfully", data: view.json)
    }

    @Sendable func close(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let view = try await conversations.close(projectId: context.projectId, body: try await RequestBody.jsonObject(request))
        return JSONResponse.success("Conversation closed successfully", data: view.json)
    }

    @Sendable func get(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let id = try PathParameter.identifier("conversationId", request, context)
        let include = request.uri.queryParameters.get("include")?.split(separator: ",").contains("messages") ?? false
        let view = try await conversations.get(projectId: context.projectId, conversationId: id, includeMessages: include)
        return JSONResponse.success("Conversation retrieved successfully", data: view.json)
    }

    @Sendable func channelMessage(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let receipt = try await conversations.receiveFromChannel(projectId: context.projectId, body: try await RequestBody.jsonObject(request))
        return JSONResponse.success("Message received", canonicalData: receipt.data)
    }
}
