import Crypto

/// The web chat of bots: its settings (through the API), and its visitors (through the widget).
package struct WebChatService: Sendable {
    let store: any RelevoStore
    let bots: BotService
    let conversations: ConversationService
    let secrets: SecretBox
    let tokens: VisitorToken.Sealer
    let now: @Sendable () -> Timestamp

    package init(
        store: any RelevoStore, bots: BotService, conversations: ConversationService, secrets: SecretBox,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.store = store
        self.bots = bots
        self.conversations = conversations
        self.secrets = secrets
        self.tokens = VisitorToken.Sealer(secrets: secrets)
        self.now = now
    }

    static let maximumOrigins = 20
    static let maximumGreetingLength = 1000
    static let agentTimeoutRange = 5...3600
    static let defaultAgentTimeoutSeconds = 60

    static func identityContext(projectId: String, botId: String) -> String { "webchat:\(projectId):\(botId):identitySecret" }

    /// A web chat's settings as the HTTP layer read them; nil keeps what is set (or the default on
    /// a first save), with the fields it could not read.
    package struct Settings: Sendable {
        package var allowedOrigins: [String]?
        package var start: WebChat.Start?
        /// `.some(nil)` removes the greeting.
        package var greeting: String??
        package var identityVerification: Bool?
        package var agentTimeoutSeconds: Int?
        package var problems = ValidationErrors()

        package init() {}
    }

    /// Enables or changes the bot's web chat. Returns it, and its identity secret when this call
    /// created one (shown once).
    package func configure(projectId: String, botId: String, _ settings: Settings) async throws -> (WebChat, identitySecret: String?) {
        var errors = settings.problems
        var origins: [String] = []
        for (index, text) in (settings.allowedOrigins ?? []).enumerated() {
            if let origin = WebOrigin.normalize(text) {
                if !origins.contains(origin) { origins.append(origin) }
            } else {
                errors.add(
                    "allowedOrigins[\(index)]",
                    LocalizedText(
                        en: "allowedOrigins[\(index)] must be an origin such as https://shop.example (scheme, host, port; no path)",
                        es: "allowedOrigins[\(index)] debe ser un origen como https://shop.example (esquema, host, puerto; sin ruta)",
                        pt: "allowedOrigins[\(index)] deve ser uma origem como https://shop.example (esquema, host, porta; sem caminho)"))
            }
        }
        if (settings.allowedOrigins?.count ?? 0) > Self.maximumOrigins {
            errors.add(
                "allowedOrigins",
                LocalizedText(
                    en: "allowedOrigins holds at most \(Self.maximumOrigins) origins",
                    es: "allowedOrigins admite como máximo \(Self.maximumOrigins) orígenes",
                    pt: "allowedOrigins admite no máximo \(Self.maximumOrigins) origens"))
        }
        if let timeout = settings.agentTimeoutSeconds, !Self.agentTimeoutRange.contains(timeout) {
            errors.add(
                "agentTimeoutSeconds",
                LocalizedText(
                    en: "agentTimeoutSeconds must be between 5 and 3600", es: "agentTimeoutSeconds debe estar entre 5 y 3600",
                    pt: "agentTimeoutSeconds deve estar entre 5 e 3600"))
        }
        let bot = try await bots.bot(projectId: projectId, id: botId)
        let existing = try await store.webChat(projectId: projectId, botId: bot.id)
        let kept = settings.allowedOrigins == nil ? existing?.allowedOrigins ?? [] : origins
        if kept.isEmpty, origins.count == (settings.allowedOrigins?.count ?? 0) {  // none given, not merely misspelt
            errors.add(
                "allowedOrigins",
                LocalizedText(
                    en: "allowedOrigins must name at least one origin", es: "allowedOrigins debe indicar al menos un origen",
                    pt: "allowedOrigins deve indicar pelo menos uma origem"))
        }
        try errors.check()
        let time = now()
        var chat =
            existing
            ?? WebChat(
                projectId: projectId, botId: bot.id, allowedOrigins: [], start: .firstMessage, greeting: nil, identitySecret: nil,
                agentTimeoutSeconds: Self.defaultAgentTimeoutSeconds, createdAt: time, updatedAt: time)
        if settings.allowedOrigins != nil { chat.allowedOrigins = origins }
        if let start = settings.start { chat.start = start }
        if let greeting = settings.greeting { chat.greeting = greeting.flatMap { $0.isEmpty ? nil : $0 } }
        if let timeout = settings.agentTimeoutSeconds { chat.agentTimeoutSeconds = timeout }
        var shown: String?
        switch settings.identityVerification {
        case true? where chat.identitySecret == nil:
            let secret = SecureRandom.hex(byteCount: 32)
            chat.identitySecret = secrets.seal(secret, context: Self.identityContext(projectId: projectId, botId: bot.id))
            shown = secret
        case false?: chat.identitySecret = nil
        default: break
        }
        chat.updatedAt = time
        try await store.saveWebChat(chat)
        return (chat, shown)
    }

    /// The bot's web chat; 404 `WEBCHAT_NOT_FOUND` when it has none (or the bot does not exist).
    package func webChat(projectId: String, botId: String) async throws -> WebChat {
        guard let chat = try await store.webChat(projectId: projectId, botId: botId) else { throw DomainError.webChatNotFound(botId: botId) }
        return chat
    }

    /// Turns the web chat off: its widget stops loading and its visitors' calls are refused. Their
    /// conversations and history stay.
    package func disable(projectId: String, botId: String) async throws {
        guard try await store.deleteWebChat(projectId: projectId, botId: botId) else { throw DomainError.webChatNotFound(botId: botId) }
    }

    /// A new identity secret, shown once; the old one stops verifying at once.
    package func regenerateIdentitySecret(projectId: String, botId: String) async throws -> (WebChat, String) {
        var chat = try await webChat(projectId: projectId, botId: botId)
        let secret = SecureRandom.hex(byteCount: 32)
        chat.identitySecret = secrets.seal(secret, context: Self.identityContext(projectId: projectId, botId: botId))
        chat.updatedAt = now()
        try await store.saveWebChat(chat)
        return (chat, secret)
    }

    /// Whether `hash` is the hex HMAC-SHA256 of `userId` under the web chat's identity secret
    /// (compared in constant time).
    func verifiesIdentity(_ chat: WebChat, userId: String, hash: String) -> Bool {
        guard let sealed = chat.identitySecret,
            let secret = secrets.open(sealed, context: Self.identityContext(projectId: chat.projectId, botId: chat.botId)),
            let mac = Hex.decode(hash.lowercased()), mac.count == 32
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(userId.utf8), using: SymmetricKey(data: Array(secret.utf8)))
    }
}
