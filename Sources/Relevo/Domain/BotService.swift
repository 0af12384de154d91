/// Bots and end users of a project (§7.1, §7.2).
package struct BotService: Sendable {
    let store: any RelevoStore
    let secrets: SecretBox
    let destinationGuard: DestinationGuard
    let now: @Sendable () -> Timestamp

    package init(store: any RelevoStore, secrets: SecretBox, destinationGuard: DestinationGuard,
                now: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.store = store
        self.secrets = secrets
        self.destinationGuard = destinationGuard
        self.now = now
    }

    static func secretContext(projectId: String, botId: String) -> String { "bot:\(projectId):\(botId):channelSecret" }

    /// Creates a bot; returns it and its channel signing secret (shown once).
    package func createBot(projectId: String, body: JSONValue) async throws -> (Bot, String) {
        var errors = ValidationErrors()
        let id: String
        switch body["id"] {
        case nil, .null?: id = Identifier.generate()
        case .string(let text)? where Identifier.isValid(text): id = text
        default: errors.invalidIdentifier("id"); id = ""
        }
        let name = Self.requiredString(body, "name", maximum: 256, &errors)
        errors.refuseNul("name", in: name)
        let url = await channelURL(body, &errors)
        try errors.ordered(["id", "name", "channelWebhookUrl"]).check()
        let secret = SecureRandom.hex(byteCount: 32)
        let time = now()
        let bot = Bot(projectId: projectId, id: id, name: name ?? "", channelWebhookUrl: url ?? nil,
                      channelSecret: secrets.seal(secret, context: Self.secretContext(projectId: projectId, botId: id)),
                      createdAt: time, updatedAt: time)
        do {
            try await store.insertBot(bot)
        } catch StoreError.conflict {
            throw DomainError.alreadyExists(resource: "BOT", id: id)
        }
        return (bot, secret)
    }

    package func bot(projectId: String, id: String) async throws -> Bot {
        guard let bot = try await store.bot(projectId: projectId, id: id) else { throw DomainError.notFound(.bot, id: id) }
        return bot
    }

    /// Sets or clears the channel URL; setting one releases the bot's held deliveries.
    package func updateBot(projectId: String, id: String, body: JSONValue) async throws -> Bot {
        var errors = ValidationErrors()
        guard body["channelWebhookUrl"] != nil else {
            errors.required("channelWebhookUrl")
            throw DomainError.badRequest(errors)
        }
        let url = await channelURL(body, &errors)
        if !errors.isEmpty { throw DomainError.badRequest(errors) }
        guard let bot = try await store.updateBotChannel(projectId: projectId, botId: id, url: url ?? nil, at: now()) else {
            throw DomainError.notFound(.bot, id: id)
        }
        return bot
    }

    /// Creates or updates a user.
    package func upsertUser(projectId: String, id: String, body: JSONValue) async throws -> EndUser {
        var errors = ValidationErrors()
        let names = Self.requiredString(body, "names", maximum: 256, &errors)
        let reference = Self.optionalString(body, "referenceId", maximum: 256, &errors)
        errors.refuseNul("names", in: names)
        errors.refuseNul("referenceId", in: reference)
        try errors.check()
        return try await upsertUser(projectId: projectId, id: id, names: names ?? "", referenceId: reference)
    }

    func upsertUser(projectId: String, id: String, names: String, referenceId: String?) async throws -> EndUser {
        let time = now()
        return try await store.upsertUser(EndUser(
            projectId: projectId, id: id, names: names, referenceId: referenceId, createdAt: time, updatedAt: time))
    }

    package func user(projectId: String, id: String) async throws -> EndUser {
        guard let user = try await store.user(projectId: projectId, id: id) else { throw DomainError.notFound(.user, id: id) }
        return user
    }

    /// `.some(nil)` when explicitly null (clear), nil when invalid or absent.
    private func channelURL(_ body: JSONValue, _ errors: inout ValidationErrors) async -> String?? {
        switch body["channelWebhookUrl"] {
        case nil: return nil
        case .null?: return .some(nil)
        case .string(let text)?:
            do {
                _ = try await destinationGuard.validate(text)
                return .some(text)
            } catch {
                let problem = error.text
                errors.add("channelWebhookUrl", LocalizedText(
                    en: problem.en.replacingOccurrences(of: "webhookUrl", with: "channelWebhookUrl"),
                    es: problem.es.replacingOccurrences(of: "webhookUrl", with: "channelWebhookUrl"),
                    pt: problem.pt.replacingOccurrences(of: "webhookUrl", with: "channelWebhookUrl")))
                return nil
            }
        default:
            errors.wrongType("channelWebhookUrl", expected: "string")
            return nil
        }
    }

    static func requiredString(_ body: JSONValue, _ field: String, maximum: Int, _ errors: inout ValidationErrors) -> String? {
        switch body[field] {
        case .string(let text)? where !text.isEmpty:
            if text.javaScriptLength > maximum { errors.tooLong(field, maximum: maximum) }
            return text
        case nil, .null?, .string?: errors.required(field); return nil
        default: errors.wrongType(field, expected: "string"); return nil
        }
    }

    static func optionalString(_ body: JSONValue, _ field: String, maximum: Int, _ errors: inout ValidationErrors) -> String? {
        switch body[field] {
        case nil, .null?: return nil
        case .string(let text)?:
            if text.javaScriptLength > maximum { errors.tooLong(field, maximum: maximum) }
            return text
        default: errors.wrongType(field, expected: "string"); return nil
        }
    }
}
