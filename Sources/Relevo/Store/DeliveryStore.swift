/// The outbox as the dispatcher sees it: claim with a lease, record every attempt, settle.
package protocol DeliveryStore: Sendable {
    /// Leases up to `limit` due events until `leaseUntil`, oldest first, only the head of each
    /// ordering key (no older event of the key still pending, delivering or held), and marks them `delivering`.
    /// An event whose lease expired (its worker died) is due again.
    /// No destination (``OutboxEvent/destinationKey``) gets more events than `room` lets it start.
    func claimDueEvents(now: Timestamp, leaseUntil: Timestamp, limit: Int, slots: DestinationSlots) async throws -> [OutboxEvent]

    /// Gives back claimed events without an attempt (abandoned at shutdown, or more than a destination had room for).
    func releaseClaims(_ eventIds: [String]) async throws

    /// Records `attempt` and settles the event: delivered, due again at a time, failed, or cancelled.
    func finishAttempt(_ attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws

    /// The earliest retry due after `now`, to sleep until then. Events already due but not claimable
    /// wait behind an attempt in flight, whose end wakes the dispatcher anyway.
    func nextDueTime(after now: Timestamp) async throws -> Timestamp?

    /// One event with every attempt (the event log, §8).
    func event(projectId: String, id: String) async throws -> (LoggedEvent, [DeliveryAttempt])?

    /// A page of a project's events, newest first, strictly before `cursor` (a `LoggedEvent.sequence`).
    func events(projectId: String, status: OutboxEvent.Status?, conversationId: String?, limit: Int, before cursor: Int64?)
        async throws -> [LoggedEvent]

    /// Queues a delivered or failed event again (same id and body, a fresh retry schedule).
    func redeliver(projectId: String, id: String, at time: Timestamp) async throws -> RedeliveryOutcome

    /// Queues again every failed event of the project created at or after `since`; returns how many.
    func redeliverFailed(projectId: String, since: Timestamp, at time: Timestamp) async throws -> Int

    /// Deletes up to `limit` delivered events that settled before `cutoff`, with their attempts; returns how many.
    func pruneDelivered(settledBefore cutoff: Timestamp, limit: Int) async throws -> Int

    /// Undelivered events (pending, delivering, held) and when the oldest pending one was created.
    func queueStatistics() async throws -> (depth: Int, oldestPendingCreatedAt: Timestamp?)

    /// How one project's deliveries stand: its queue, what settled since `since`, its last success.
    func deliverySummary(projectId: String, since: Timestamp) async throws -> DeliverySummary

    /// Signalled after every commit that makes an event due, so the dispatcher need not poll for new work.
    var deliverySignal: WakeUpSignal { get }
}

/// How an attempt settles its event.
package enum DeliveryOutcome: Sendable, Equatable {
    case delivered(at: Timestamp)
    case retry(at: Timestamp)
    case failed(at: Timestamp)
    /// The destination is gone (integration deleted): the event stays in the log as `cancelled`.
    case cancelled(at: Timestamp)
    /// A channel delivery whose bot has no `channelWebhookUrl`: it waits as `held` until one is set.
    case held
}

extension DeliveryOutcome: CustomStringConvertible {
    /// As the log shows it: `delivered`, `retry at 2026-11-26T10:00:05.000Z`, `failed`, `cancelled`, `held`.
    package var description: String {
        switch self {
        case .delivered: "delivered"
        case .retry(let at): "retry at \(at.iso8601)"
        case .failed: "failed"
        case .cancelled: "cancelled"
        case .held: "held"
        }
    }
}

extension DeliveryOutcome {
    /// The event's columns once settled so: its status, when it is due again (a retry, in
    /// milliseconds), and when it settled (nil while it still waits: retried or held).
    var storedColumns: (status: OutboxEvent.Status, nextAttemptAt: Int64?, finishedAt: Int64?) {
        switch self {
        case .delivered(let at): (.delivered, nil, at.millisecondsSince1970)
        case .retry(let at): (.pending, at.millisecondsSince1970, nil)
        case .failed(let at): (.failed, nil, at.millisecondsSince1970)
        case .cancelled(let at): (.cancelled, nil, at.millisecondsSince1970)
        case .held: (.held, nil, nil)
        }
    }
}

/// An event as the log shows it: its position and when it settled.
package struct LoggedEvent: Sendable, Equatable {
    package let event: OutboxEvent
    /// Creation order across the store; the paging cursor.
    package let sequence: Int64
    package let finishedAt: Timestamp?
}

package enum RedeliveryOutcome: Sendable, Equatable {
    case queued
    case notFound
    /// Only delivered and failed events can be sent again; this one is in another state.
    case notRedeliverable(OutboxEvent.Status)
}

/// One project's delivery health, for an operator's overview.
package struct DeliverySummary: Sendable, Equatable {
    /// Events not settled yet: pending, delivering, held.
    package var queueDepth: Int
    /// When the oldest pending event was created; nil when none is pending.
    package var oldestPendingCreatedAt: Timestamp?
    /// Events delivered, and events that failed, since the summary's start.
    package var deliveredSince: Int
    package var failedSince: Int
    /// Every failed event the log keeps (the ones a bulk redelivery would queue again).
    package var failedTotal: Int
    /// When an event of the project was last delivered; nil when none has been (or all were pruned).
    package var lastDeliveredAt: Timestamp?

    package init(
        queueDepth: Int, oldestPendingCreatedAt: Timestamp?, deliveredSince: Int, failedSince: Int, failedTotal: Int,
        lastDeliveredAt: Timestamp?
    ) {
        self.queueDepth = queueDepth
        self.oldestPendingCreatedAt = oldestPendingCreatedAt
        self.deliveredSince = deliveredSince
        self.failedSince = failedSince
        self.failedTotal = failedTotal
        self.lastDeliveredAt = lastDeliveredAt
    }
}
