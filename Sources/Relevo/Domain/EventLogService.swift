/// The event log (§8): what was sent, how each attempt went, and sending again.
package struct EventLogService: Sendable {
    let store: any RelevoStore
    let cursors: PageCursor
    let now: @Sendable () -> Timestamp

    package init(store: any RelevoStore, secrets: SecretBox, now: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.store = store
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
