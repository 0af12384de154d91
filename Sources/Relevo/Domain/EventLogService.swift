/// The event log (§8): what was sent, how each attempt went, and sending again.
package struct EventLogService: Sendable {
    let store: any RelevoStore
    let cursors: EventCursor
    let now: @Sendable () -> Timestamp

    package init(store: any RelevoStore, secrets: SecretBox, now: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.store = store
        cursors = EventCursor(secrets: secrets)
        self.now = now
    }

    package static let maximumPageSize = 200

    /// A page, newest first, and the cursor of the next page (nil on the last page).
    package func list(projectId: String, status: String?, conversationId: String?, limit: String?, cursor: String?) async throws
        -> (events: [LoggedEvent], nextCursor: String?)
    {
        var errors = ValidationErrors()
        let statusFilter = status.flatMap { text -> OutboxEvent.Status? in
            guard let value = OutboxEvent.Status(rawValue: text) else {
                errors.add("status", LocalizedText(
                    en: "status must be one of pending, delivering, delivered, failed, cancelled, held",
                    es: "status debe ser uno de pending, delivering, delivered, failed, cancelled, held",
                    pt: "status deve ser um de pending, delivering, delivered, failed, cancelled, held"))
                return nil
            }
            return value
        }
        if let conversationId, !Identifier.isValid(conversationId) { errors.invalidIdentifier("conversationId") }
        let pageSize = limit.map { Int($0) ?? -1 } ?? 50
        if !(1...Self.maximumPageSize).contains(pageSize) {
            errors.add("limit", LocalizedText(en: "limit must be an integer from 1 to 200", es: "limit debe ser un entero de 1 a 200",
                                              pt: "limit deve ser um inteiro de 1 a 200"))
        }
        let before = cursor.map { cursors.open($0, projectId: projectId) ?? -1 }
        if let before, before < 0 {
            errors.add("cursor", LocalizedText(en: "cursor is not one this API returned", es: "cursor no es uno devuelto por esta API",
                                               pt: "cursor não é um devolvido por esta API"))
        }
        try errors.check()
        let events = try await store.events(projectId: projectId, status: statusFilter, conversationId: conversationId,
                                            limit: pageSize + 1, before: before)
        let page = Array(events.prefix(pageSize))
        return (page, events.count > pageSize ? page.last.map { cursors.seal($0.sequence, projectId: projectId) } : nil)
    }

    package func event(projectId: String, id: String) async throws -> (LoggedEvent, [DeliveryAttempt]) {
        guard let found = try await store.event(projectId: projectId, id: id) else { throw DomainError.notFound(.event, id: id) }
        return found
    }

    /// Queues a settled event again. A panel event needs the project's integration: without it the
    /// attempt could only end as `cancelled`, written over the event's real history.
    package func redeliver(projectId: String, id: String) async throws {
        if try await store.integration(projectId: projectId) == nil,
           let (logged, _) = try await store.event(projectId: projectId, id: id), case .panel = logged.event.destination {
            throw DomainError.integrationNotFound(projectId: projectId)
        }
        switch try await store.redeliver(projectId: projectId, id: id, at: now()) {
        case .queued: return
        case .notFound: throw DomainError.notFound(.event, id: id)
        case .notRedeliverable(let status): throw DomainError.eventNotRedeliverable(status: status.rawValue)
        }
    }

    /// Bulk recovery: `{"status":"failed","since":ISO-8601}`.
    package func redeliverFailed(projectId: String, body: JSONValue) async throws -> Int {
        var errors = ValidationErrors()
        if body["status"] != "failed" {
            errors.add("status", LocalizedText(en: "status must be \"failed\"", es: "status debe ser \"failed\"", pt: "status deve ser \"failed\""))
        }
        let since = body["since"]?.stringValue.flatMap(Timestamp.init(iso8601:))
        if since == nil {
            errors.add("since", LocalizedText(
                en: "since must be an ISO-8601 UTC time such as 2026-01-15T10:30:00.000Z",
                es: "since debe ser una fecha ISO-8601 UTC como 2026-01-15T10:30:00.000Z",
                pt: "since deve ser uma data ISO-8601 UTC como 2026-01-15T10:30:00.000Z"))
        }
        try errors.check()
        try await requireIntegration(projectId)
        return try await store.redeliverFailed(projectId: projectId, since: since!, at: now())
    }

    private func requireIntegration(_ projectId: String) async throws {
        guard try await store.integration(projectId: projectId) != nil else { throw DomainError.integrationNotFound(projectId: projectId) }
    }
}

extension LoggedEvent {
    /// The log's view; `body` and attempts only for a single event.
    func json(attempts: [DeliveryAttempt]? = nil) -> JSONValue {
        .members([
            "id": .string(event.id), "destination": .string(event.destination.kind),
            "botId": event.destination.botId.map(JSONValue.string),
            "eventType": .string(event.eventType), "status": .string(event.status.rawValue),
            "conversationId": event.conversationId.map(JSONValue.string) ?? .null,
            "attemptCount": .number(Double(event.attemptCount)),
            "nextAttemptAt": event.status == .pending ? .string(event.nextAttemptAt.iso8601) : nil,
            "createdAt": .string(event.createdAt.iso8601),
            "finishedAt": finishedAt.map { .string($0.iso8601) } ?? .null,
            "body": attempts == nil ? nil : ((try? JSONParser.parse(event.body)) ?? .null),
            "attempts": attempts.map { list in .array(list.map(\.json)) },
        ])
    }
}

extension DeliveryAttempt {
    var json: JSONValue {
        .members([
            "number": .number(Double(number)), "startedAt": .string(startedAt.iso8601),
            "durationMs": .number(Double(durationMilliseconds)),
            "statusCode": statusCode.map { .number(Double($0)) } ?? .null,
            "errorClass": errorClass.map(JSONValue.string) ?? .null,
            "responseBody": responseBody.map(JSONValue.string) ?? .null,
        ])
    }
}
