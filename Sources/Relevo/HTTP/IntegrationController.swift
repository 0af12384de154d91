import Hummingbird

/// The Integration API, E1–E5 (§2): reads the body into an ``IntegrationInput``, calls
/// ``IntegrationService``, renders the envelope.
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
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        if fields.value("webhookUrl") == nil { fields.required("webhookUrl") }
        let created = try await integrations.create(projectId: context.projectId, input: Self.input(fields))
        let record = created.integration
        return JSONResponse.success(
            "Integration created successfully",
            data: .members([
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
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        let record = try await integrations.update(projectId: context.projectId, input: Self.input(fields))
        return JSONResponse.success("Integration updated successfully", data: record.publicJSON)
    }

    @Sendable func delete(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        try await integrations.delete(projectId: context.projectId)
        return JSONResponse.success("Integration deleted successfully")
    }

    @Sendable func regenerate(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let grace = try await RequestBody.optionalJSONObject(request).map(Self.graceSeconds) ?? 0
        let result = try await integrations.regenerateSecret(projectId: context.projectId, graceSeconds: grace)
        return JSONResponse.success(
            "Signing secret regenerated successfully",
            data: .members([
                "brainId": .string(context.projectId),
                "signingSecret": .string(result.signingSecret),
                "regeneratedAt": .string(result.regeneratedAt.iso8601),
            ]))
    }

    /// The fields of an E1 or E3 body, every problem of type or value collected.
    static func input(_ fields: FieldReader) -> IntegrationInput {
        var input = IntegrationInput(webhookUrl: fields.string("webhookUrl"))
        if let raw = fields.string("authType") {
            if let type = AuthType(rawValue: raw) {
                input.authType = type
            } else {
                fields.add(
                    "authType",
                    LocalizedText(
                        en: "authType must be one of no_auth, bearer, api_key, basic",
                        es: "authType debe ser uno de no_auth, bearer, api_key, basic",
                        pt: "authType deve ser um de no_auth, bearer, api_key, basic"))
            }
        }
        input.authorization = fields.string("authorization")
        input.problems = fields.problems
        return input
    }

    /// `graceSeconds` of an E5 body: an integer from 0 to 7 days, 0 when absent.
    static func graceSeconds(_ body: JSONValue) throws -> Int64 {
        guard let value = FieldReader(body).value("graceSeconds") else { return 0 }
        guard case .number(let number) = value, number == number.rounded(),
            number >= 0, number <= Double(IntegrationService.maximumGraceSeconds)
        else {
            var errors = ValidationErrors()
            errors.add(
                "graceSeconds",
                LocalizedText(
                    en: "graceSeconds must be an integer from 0 to 604800",
                    es: "graceSeconds debe ser un entero de 0 a 604800",
                    pt: "graceSeconds deve ser um inteiro de 0 a 604800"))
            throw DomainError.invalidFields(errors)
        }
        return Int64(number)
    }
}
