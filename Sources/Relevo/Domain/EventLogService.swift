/// The event log (§8): what was sent, how each attempt went, and sending again.
package struct EventLogService: Sendable {
    let store: any RelevoStore
    let cursors: PageCursor
    let secrets: SecretBox
    let now: @Sendable () -> Timestamp

    package init(store: any RelevoStore, secrets: SecretBox, now: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.store = store
        self.secrets = secrets
        cursors = PageCursor(secrets: secrets, list: .events)
        self.now = now
    }

    /// Which events a page of the log holds, as the HTTP layer read the query, with the parameters
    /// it could not read (a cursor is checked here, being sealed, and reported with them).
    package struct Filter: Sendable {
        package var status: OutboxEvent.Status?
        package var conversationId: String?
        package var page = PageRequest()
        package var problems = ValidationErrors()

        package init() {}
    }

    /// A page, newest first, and the cursor of the next page (nil on the last page).
    package func list(projectId: String, _ filter: Filter) async throws -> (events: [LoggedEvent], nextCursor: String?) {
        var errors = filter.problems
        let before = cursors.position(of: filter.page.cursor, projectId: projectId, problems: &errors)
        try errors.check()
        let size = filter.page.size
        let events = try await store.events(
            projectId: projectId, status: filter.status, conversationId: filter.conversationId, limit: size + 1, before: before)
        let page = Array(events.prefix(size))
        return (page, events.count > size ? page.last.map { cursors.seal($0.sequence, projectId: projectId) } : nil)
    }

    /// The project's delivery health, counting what settled in the last hour.
    package func summary(projectId: String) async throws -> DeliverySummary {
        try await store.deliverySummary(projectId: projectId, since: now().adding(seconds: -3600))
    }

    package func event(projectId: String, id: String) async throws -> (LoggedEvent, [DeliveryAttempt]) {
        guard let found = try await store.event(projectId: projectId, id: id) else { throw DomainError.notFound(.event, id: id) }
        return found
    }

    /// The headers each attempt sent, by attempt number, made again from the event, the attempt's
    /// start and the secrets in force then; the panel credential's value hidden. Relevo keeps no
    /// copy of the headers, so an attempt made before the integration last changed (a regenerated
    /// secret, another credential) has none, nor has one that sent nothing.
    package func headersSent(_ logged: LoggedEvent, attempts: [DeliveryAttempt]) async throws -> [Int: [(String, String)]] {
        let event = logged.event
        let sent = attempts.filter(OutboundHeaders.sentRequest)
        guard !sent.isEmpty else { return [:] }
        var headers: [Int: [(String, String)]] = [:]
        func record(_ attempt: DeliveryAttempt, keys: [SigningKey], credential: (String, String)?) {
            headers[attempt.number] = OutboundHeaders.make(
                eventId: event.id, body: event.body, timestamp: attempt.startedAt.millisecondsSince1970 / 1000, keys: keys,
                credential: credential)
        }
        switch event.destination {
        case .panel:
            guard let integration = try await store.integration(projectId: event.projectId),
                let current = secrets.open(integration.signingSecret, context: IntegrationService.signingContext(integration.id))
            else { return [:] }
            let previous = integration.previousSigningSecret.flatMap {
                secrets.open($0, context: IntegrationService.signingContext(integration.id))
            }
            let credential = PanelCredential.header(for: integration.authType, authorization: "user:password")
                .map { ($0.name, OutboundHeaders.hiddenValue) }
            for attempt in sent where attempt.startedAt >= integration.updatedAt {
                var keys = [SigningKey(secret: current)]
                if let previous, let expiry = integration.previousSecretExpiresAt, attempt.startedAt < expiry {
                    keys.append(SigningKey(secret: previous))
                }
                record(attempt, keys: keys, credential: credential)
            }
        case .channel(let botId):
            // A channel secret never changes while its bot exists.
            guard let bot = try await store.bot(projectId: event.projectId, id: botId),
                let secret = secrets.open(bot.channelSecret, context: BotService.secretContext(projectId: bot.projectId, botId: bot.id))
            else { return [:] }
            for attempt in sent { record(attempt, keys: [SigningKey(secret: secret)], credential: nil) }
        }
        return headers
    }

    /// Queues a settled event again. A panel event needs the project's integration: without it the
    /// attempt could only end as `cancelled`, written over the event's real history.
    package func redeliver(projectId: String, id: String) async throws {
        if try await store.integration(projectId: projectId) == nil,
            let (logged, _) = try await store.event(projectId: projectId, id: id), case .panel = logged.event.destination
        {
            throw DomainError.integrationNotFound(projectId: projectId)
        }
        switch try await store.redeliver(projectId: projectId, id: id, at: now()) {
        case .queued: return
        case .notFound: throw DomainError.notFound(.event, id: id)
        case .notRedeliverable(let status): throw DomainError.eventNotRedeliverable(status: status.rawValue)
        }
    }

    /// Bulk recovery: every failed event created since `since` is queued again.
    package func redeliverFailed(projectId: String, since: Timestamp) async throws -> Int {
        try await requireIntegration(projectId)
        return try await store.redeliverFailed(projectId: projectId, since: since, at: now())
    }

    private func requireIntegration(_ projectId: String) async throws {
        guard try await store.integration(projectId: projectId) != nil else { throw DomainError.integrationNotFound(projectId: projectId) }
    }
}
