import Hummingbird

/// Bots and users of the platform side (§7.1, §7.2).
struct BotController {
    let bots: BotService

    func register(in routes: inout RouteTable) {
        routes.project(.post, "projects/:projectId/bots", createBot)
        routes.project(.get, "projects/:projectId/bots", listBots)
        routes.project(.get, "projects/:projectId/bots/:botId", getBot)
        routes.project(.patch, "projects/:projectId/bots/:botId", updateBot)
        routes.project(.put, "projects/:projectId/users/:userId", putUser)
        routes.project(.get, "projects/:projectId/users/:userId", getUser)
    }

    @Sendable func createBot(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        let id = fields.value("id") == nil ? nil : fields.identifier("id")  // absent: generated
        let name = fields.requiredString("name", maximum: 256)
        fields.refuseNul("name", in: name)
        var input = BotService.NewBot(id: id, name: name, channelWebhookUrl: fields.string("channelWebhookUrl"))
        input.problems = fields.problems
        let (bot, secret) = try await bots.createBot(projectId: context.projectId, input)
        guard case .object(var members) = bot.publicJSON else { return JSONResponse.success("Bot created successfully") }
        members.insert((key: "channelSigningSecret", value: .string(secret)), at: 3)
        return JSONResponse.success("Bot created successfully", data: .object(members))
    }

    /// Every bot of the project, oldest first; never a channel secret.
    @Sendable func listBots(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let bots = try await bots.bots(projectId: context.projectId)
        return JSONResponse.success("Bots retrieved successfully", data: .array(bots.map(\.publicJSON)))
    }

    @Sendable func getBot(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let bot = try await bots.bot(projectId: context.projectId, id: try PathParameter.identifier("botId", request, context))
        return JSONResponse.success("Bot retrieved successfully", data: bot.publicJSON)
    }

    /// Sets (a string) or clears (`null`) the channel URL; the field must be there.
    @Sendable func updateBot(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let id = try PathParameter.identifier("botId", request, context)
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        if !fields.isPresent("channelWebhookUrl") { fields.required("channelWebhookUrl") }
        let url = fields.string("channelWebhookUrl")
        try fields.check()
        let bot = try await bots.updateBot(projectId: context.projectId, id: id, channelWebhookUrl: url)
        return JSONResponse.success("Bot updated successfully", data: bot.publicJSON)
    }

    @Sendable func putUser(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let id = try PathParameter.identifier("userId", request, context)
        let fields = FieldReader(try await RequestBody.jsonObject(request))
        let names = fields.requiredString("names", maximum: 256)
        let referenceId = fields.string("referenceId", maximum: 256)
        fields.refuseNul("names", in: names)
        fields.refuseNul("referenceId", in: referenceId)
        guard let names, fields.problems.isEmpty else { throw DomainError.invalidFields(fields.problems) }
        let user = try await bots.upsertUser(projectId: context.projectId, id: id, names: names, referenceId: referenceId)
        return JSONResponse.success("User saved successfully", data: user.publicJSON)
    }

    @Sendable func getUser(_ request: Request, _ context: ProjectRequestContext) async throws -> Response {
        let user = try await bots.user(projectId: context.projectId, id: try PathParameter.identifier("userId", request, context))
        return JSONResponse.success("User retrieved successfully", data: user.publicJSON)
    }
}
