import Hummingbird

/// The Integration API, E1–E5 (§2): parses, calls ``IntegrationService``, renders the envelope.
struct IntegrationController {
    let integrations: IntegrationService

    func register(in routes: inout RouteTable) {
        let path = "external-support/:projectId"
        routes.project(.post, path, create)
        routes.project(.get, path, get)
        routes.project(.patch, path, update)
        routes.project(.delete, path, delete)
        routes.project(.post, "\(path)/secret/regenerate", regenerate)
    }

    @Sendable func create(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let body = try await RequestBody.jsonObject(request)
        let created = try await integrations.create(projectId: context.projectId, body: body)
        let record = created.integration
        return JSONResponse.success("Integration created successfully", data: .members([
            "id": .string(record.id),
            "brainId": .string(record.projectId),
            "webhookUrl": .string(record.webhookUrl),
            "authType": .string(record.authType.rawValue),
            "signingSecret": .string(created.signingSecret),
            "createdAt": .string(record.createdAt.iso8601),
            "updatedAt": .string(record.updatedAt.iso8601),
        ]))
    }

    @Sendable func get(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let record = try await integrations.get(projectId: context.projectId)
        return JSONResponse.success("Integration retrieved successfully", data: record.publicJSON)
    }

    @Sendable func update(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let body = try await RequestBody.jsonObject(request)
        let record = try await integrations.update(projectId: context.projectId, body: body)
        return JSONResponse.success("Integration updated successfully", data: record.publicJSON)
    }

    @Sendable func delete(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        try await integrations.delete(projectId: context.projectId)
        return JSONResponse.success("Integration deleted successfully")
    }

    @Sendable func regenerate(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let body = try await RequestBody.optionalJSONObject(request)
        let result = try await integrations.regenerateSecret(projectId: context.projectId, body: body)
        return JSONResponse.success("Signing secret regenerated successfully", data: .members([
            "brainId": .string(context.projectId),
            "signingSecret": .string(result.signingSecret),
            "regeneratedAt": .string(result.regeneratedAt.iso8601),
        ]))
    }
}
