/// Bots and end users of a project (§7.1, §7.2).
package struct BotService: Sendable {
    let store: any RelevoStore
    let secrets: SecretBox
    let destinationGuard: DestinationGuard
    let now: @Sendable () -> Timestamp

    package init(
        store: any RelevoStore, secrets: SecretBox, destinationGuard: DestinationGuard,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.store = store
        self.secrets = secrets
        self.destinationGuard = destinationGuard
        self.now = now
    }

    static func secretContext(projectId: String, botId: String) -> String { "bot:\(projectId):\(botId):channelSecret" }

    /// What creating a bot needs, as the HTTP layer read it, with the fields it could not read (the
    /// channel address is checked here, against the address rule, and reported with them).
    package struct NewBot: Sendable {
        /// Nil: a generated id.
        package var id: String?
        package var name: String?
        package var channelWebhookUrl: String?
        package var problems = ValidationErrors()

        package init(id: String?, name: String?, channelWebhookUrl: String?) {
            self.id = id
            self.name = name
            self.channelWebhookUrl = channelWebhookUrl
        }
    }

    /// Creates a bot; returns it and its channel signing secret (shown once).
    package func createBot(projectId: String, _ input: NewBot) async throws -> (Bot, String) {
        var errors = input.problems
        if let url = input.channelWebhookUrl { await checkChannelURL(url, into: &errors) }
        try errors.ordered(["id", "name", "channelWebhookUrl"]).check()
        let id = input.id ?? Identifier.generate()
        let secret = SecureRandom.hex(byteCount: 32)
        let time = now()
        let bot = Bot(
            projectId: projectId, id: id, name: input.name ?? "", channelWebhookUrl: input.channelWebhookUrl,
            channelSecret: secrets.seal(secret, context: Self.secretContext(projectId: projectId, botId: id)),
            createdAt: time, updatedAt: time)
        do {
            try await store.insertBot(bot)
        } catch StoreError.conflict {
            throw DomainError.alreadyExists(resource: "BOT", id: id)
        }
        return (bot, secret)
    }

    /// The project's bots, oldest first.
    package func bots(projectId: String) async throws -> [Bot] {
        try await store.bots(projectId: projectId)
    }

    package func bot(projectId: String, id: String) async throws -> Bot {
        guard let bot = try await store.bot(projectId: projectId, id: id) else { throw DomainError.notFound(.bot, id: id) }
        return bot
    }

    /// Sets (or, with nil, clears) the channel URL; setting one releases the bot's held deliveries.
    package func updateBot(projectId: String, id: String, channelWebhookUrl url: String?) async throws -> Bot {
        var errors = ValidationErrors()
        if let url { await checkChannelURL(url, into: &errors) }
        try errors.check()
        guard let bot = try await store.updateBotChannel(projectId: projectId, botId: id, url: url, at: now()) else {
            throw DomainError.notFound(.bot, id: id)
        }
        return bot
    }

    /// Creates or updates a user.
    package func upsertUser(projectId: String, id: String, names: String, referenceId: String?) async throws -> EndUser {
        let time = now()
        return try await store.upsertUser(
            EndUser(
                projectId: projectId, id: id, names: names, referenceId: referenceId, createdAt: time, updatedAt: time))
    }

    package func user(projectId: String, id: String) async throws -> EndUser {
        guard let user = try await store.user(projectId: projectId, id: id) else { throw DomainError.notFound(.user, id: id) }
        return user
    }

    /// The address rule, worded for `channelWebhookUrl`.
    private func checkChannelURL(_ text: String, into errors: inout ValidationErrors) async {
        do {
            _ = try await destinationGuard.validate(text)
        } catch {
            let problem = error.text
            errors.add(
                "channelWebhookUrl",
                LocalizedText(
                    en: problem.en.replacingOccurrences(of: "webhookUrl", with: "channelWebhookUrl"),
                    es: problem.es.replacingOccurrences(of: "webhookUrl", with: "channelWebhookUrl"),
                    pt: problem.pt.replacingOccurrences(of: "webhookUrl", with: "channelWebhookUrl")))
        }
    }
}
