import Hummingbird

/// The event log (§8): list, inspect, redeliver one, redeliver failed ones in bulk.
struct EventLogController {
    let events: EventLogService

    func register(in routes: inout RouteTable) {
        routes.project(.get, "external-support/:projectId/events", list)
        routes.project(.get, "external-support/:projectId/delivery-summary", summary)
        routes.project(.post, "external-support/:projectId/events/redeliver", redeliverFailed)
        routes.project(.get, "external-support/:projectId/events/:eventId", get)
        routes.project(.post, "external-support/:projectId/events/:eventId/redeliver", redeliver)
    }

    @Sendable func list(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let page = try await events.list(projectId: context.projectId, Self.filter(request))
        return JSONResponse.success(
            "Events retrieved successfully",
            data: .members([
                "events": .array(page.events.map { $0.json() }),
                "nextCursor": page.nextCursor.map(JSONValue.string) ?? .null,
            ]))
    }

    @Sendable func summary(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let summary = try await events.summary(projectId: context.projectId)
        return JSONResponse.success("Delivery summary retrieved successfully", data: summary.json)
    }

    @Sendable func get(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let (event, attempts) = try await events.event(
            projectId: context.projectId, id: try PathParameter.identifier("eventId", request, context))
        let headers = try await events.headersSent(event, attempts: attempts)
        return JSONResponse.success("Event retrieved successfully", data: event.json(attempts: attempts, headers: headers))
    }

    @Sendable func redeliver(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let id = try PathParameter.identifier("eventId", request, context)
        try await events.redeliver(projectId: context.projectId, id: id)
        return JSONResponse.success("Event queued for redelivery", data: .members(["id": .string(id), "status": "pending"]))
    }

    @Sendable func redeliverFailed(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        if fields.body["status"] != "failed" {
            fields.add("status", LocalizedText(en: "status must be \"failed\"", es: "status debe ser \"failed\"", pt: "status deve ser \"failed\""))
        }
        let since = fields.body["since"]?.stringValue.flatMap(Timestamp.init(iso8601:))
        if since == nil {
            fields.add(
                "since",
                LocalizedText(
                    en: "since must be an ISO-8601 UTC time such as 2026-01-15T10:30:00.000Z",
                    es: "since debe ser una fecha ISO-8601 UTC como 2026-01-15T10:30:00.000Z",
                    pt: "since deve ser uma data ISO-8601 UTC como 2026-01-15T10:30:00.000Z"))
        }
        guard let since, fields.problems.isEmpty else { throw DomainError.invalidFields(fields.problems) }
        let count = try await events.redeliverFailed(projectId: context.projectId, since: since)
        return JSONResponse.success("Failed events queued for redelivery", data: .members(["count": .number(Double(count))]))
    }

    /// The list's query parameters, every problem collected (the cursor is checked by the service).
    private static func filter(_ request: Request) -> EventLogService.Filter {
        let query = request.uri.queryParameters
        var filter = EventLogService.Filter()
        var problems = ValidationErrors()
        if let status = query.get("status") {
            filter.status = OutboxEvent.Status(rawValue: status)
            if filter.status == nil {
                problems.add(
                    "status",
                    LocalizedText(
                        en: "status must be one of pending, delivering, delivered, failed, cancelled, held",
                        es: "status debe ser uno de pending, delivering, delivered, failed, cancelled, held",
                        pt: "status deve ser um de pending, delivering, delivered, failed, cancelled, held"))
            }
        }
        filter.conversationId = query.get("conversationId")
        if let id = filter.conversationId, !Identifier.isValid(id) { problems.invalidIdentifier("conversationId") }
        filter.page = PageQuery.read(query, problems: &problems)
        filter.problems = problems
        return filter
    }
}
