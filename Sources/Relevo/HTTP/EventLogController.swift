import Hummingbird

/// The event log (§8): list, inspect, redeliver one, redeliver failed ones in bulk.
struct EventLogController {
    let events: EventLogService

    func register(in routes: inout RouteTable) {
        routes.project(.get, "external-support/:projectId/events", list)
        routes.project(.post, "external-support/:projectId/events/redeliver", redeliverFailed)
        routes.project(.get, "external-support/:projectId/events/:eventId", get)
        routes.project(.post, "external-support/:projectId/events/:eventId/redeliver", redeliver)
    }

    @Sendable func list(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let page = try await events.list(
            projectId: context.projectId, status: query.get("status"), conversationId: query.get("conversationId"),
            limit: query.get("limit"), cursor: query.get("cursor"))
        return JSONResponse.success("Events retrieved successfully", data: .members([
            "events": .array(page.events.map { $0.json() }),
            "nextCursor": page.nextCursor.map(JSONValue.string) ?? .null,
        ]))
    }

    @Sendable func get(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let (event, attempts) = try await events.event(
            projectId: context.projectId, id: try PathParameter.identifier("eventId", request, context))
        return JSONResponse.success("Event retrieved successfully", data: event.json(attempts: attempts))
    }

    @Sendable func redeliver(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let id = try PathParameter.identifier("eventId", request, context)
        try await events.redeliver(projectId: context.projectId, id: id)
        return JSONResponse.success("Event queued for redelivery", data: .members(["id": .string(id), "status": "pending"]))
    }

    @Sendable func redeliverFailed(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let count = try await events.redeliverFailed(projectId: context.projectId, body: try await RequestBody.jsonObject(request))
        return JSONResponse.success("Failed events queued for redelivery", data: .members(["count": .number(Double(count))]))
    }
}
