/// Something Relevo must deliver, written in the same transaction as the change that caused it.
package struct OutboxEvent: Sendable, Equatable {
    /// Where it goes. Channel deliveries name the bot whose `channelWebhookUrl` and secret apply.
    package enum Destination: Sendable, Equatable {
        case panel
        case channel(botId: String)

        package var kind: String { if case .panel = self { "panel" } else { "channel" } }
        package var botId: String? { if case .channel(let botId) = self { botId } else { nil } }
    }

    package enum Status: String, Sendable, CaseIterable {
        case pending, delivering, delivered, failed, cancelled, held
    }

    /// What never changes once the event is written, boxed: an event is copied many times on its
    /// way (the write, the schedule, the claim, the dispatcher's line, the attempt), and a copy of
    /// eight strings and a body would retain each of them.
    private final class Fixed: Sendable, Equatable {
        let id: String
        let projectId: String
        let destination: Destination
        let destinationKey: String
        let orderingKey: String
        let conversationId: String?
        let eventType: String
        let body: [UInt8]
        let createdAt: Timestamp

        init(
            id: String, projectId: String, destination: Destination, orderingKey: String, conversationId: String?,
            eventType: String, body: [UInt8], createdAt: Timestamp
        ) {
            self.id = id
            self.projectId = projectId
            self.destination = destination
            self.destinationKey = OutboxEvent.destinationKey(projectId: projectId, destination: destination)
            self.orderingKey = orderingKey
            self.conversationId = conversationId
            self.eventType = eventType
            self.body = body
            self.createdAt = createdAt
        }

        static func == (a: Fixed, b: Fixed) -> Bool {
            a === b
                || (a.id == b.id && a.projectId == b.projectId && a.destination == b.destination && a.orderingKey == b.orderingKey
                    && a.conversationId == b.conversationId && a.eventType == b.eventType && a.body == b.body && a.createdAt == b.createdAt)
        }
    }

    private let fixed: Fixed

    /// Stable across retries: also the Standard Webhooks `webhook-id`.
    package var id: String { fixed.id }
    package var projectId: String { fixed.projectId }
    package var destination: Destination { fixed.destination }
    /// Events with the same key are delivered strictly in creation order (one conversation, one destination).
    package var orderingKey: String { fixed.orderingKey }
    package var conversationId: String? { fixed.conversationId }
    package var eventType: String { fixed.eventType }
    /// The exact bytes sent on every attempt (JavaScript canonical JSON).
    package var body: [UInt8] { fixed.body }
    package var createdAt: Timestamp { fixed.createdAt }
    package var status: Status
    package var attemptCount: Int
    /// Attempts made before the current retry schedule began (a redelivery starts a fresh schedule).
    package var retryBase: Int
    package var nextAttemptAt: Timestamp

    /// Who receives it: `project:panel` or `project:channel:bot`. In-flight attempts are bounded per key,
    /// so one slow panel cannot take every delivery slot. Kept, not computed: the dispatcher reads
    /// it several times per attempt, and each computation would build a new string.
    package var destinationKey: String { fixed.destinationKey }

    static func destinationKey(projectId: String, destination: Destination) -> String {
        switch destination {
        case .panel: "\(projectId):panel"
        case .channel(let botId): "\(projectId):channel:\(botId)"
        }
    }

    package init(
        id: String, projectId: String, destination: Destination, orderingKey: String, conversationId: String?,
        eventType: String, body: [UInt8], status: Status, attemptCount: Int = 0, retryBase: Int = 0,
        nextAttemptAt: Timestamp, createdAt: Timestamp
    ) {
        fixed = Fixed(
            id: id, projectId: projectId, destination: destination, orderingKey: orderingKey, conversationId: conversationId,
            eventType: eventType, body: body, createdAt: createdAt)
        self.status = status
        self.attemptCount = attemptCount
        self.retryBase = retryBase
        self.nextAttemptAt = nextAttemptAt
    }

    /// `event` as its row reads once it is its key's head: never attempted, held or pending, due at `due`.
    init(refreshing event: OutboxEvent, held: Bool, due: Int64) {
        self = event
        status = held ? .held : .pending
        nextAttemptAt = Timestamp(millisecondsSince1970: due)
    }

    /// `evt_`, 12 hex digits of the creation millisecond, 12 random hex digits (48 bits). Ids sort by
    /// creation time, as Svix's do, so the indexes keyed by event id (the id itself, attempts) grow
    /// at one end: a batch of new events dirties one page of each, not one page per event.
    /// Written straight into the string (one allocation), the random part from ``SecureRandom/next()``.
    static func newId(at time: Timestamp) -> String {
        let millis = UInt64(max(0, time.millisecondsSince1970)) & 0xFFFF_FFFF_FFFF
        let random = SecureRandom.next() & 0xFFFF_FFFF_FFFF
        return String(unsafeUninitializedCapacity: 28) { out in
            for (index, byte) in "evt_".utf8.enumerated() { out[index] = byte }
            Hex.write(millis, digits: 12, into: out, at: 4)
            Hex.write(random, digits: 12, into: out, at: 16)
            return 28
        }
    }

    /// A new event, due now.
    static func make(
        projectId: String, destination: Destination, conversationId: String, eventType: String,
        body: JSONValue, held: Bool = false, at time: Timestamp
    ) -> OutboxEvent {
        make(
            projectId: projectId, destination: destination, conversationId: conversationId, eventType: eventType,
            bytes: CanonicalJSONWriter.bytes(body), held: held, at: time)
    }

    /// A new event, due now, whose body is already in canonical form.
    static func make(
        projectId: String, destination: Destination, conversationId: String, eventType: String,
        bytes: [UInt8], held: Bool = false, at time: Timestamp
    ) -> OutboxEvent {
        OutboxEvent(
            id: newId(at: time), projectId: projectId, destination: destination,
            orderingKey: "\(destination.kind):\(projectId):\(conversationId)", conversationId: conversationId,
            eventType: eventType, body: bytes, status: held ? .held : .pending, nextAttemptAt: time, createdAt: time)
    }
}

/// One try at delivering an event (§5.2), as recorded.
package struct DeliveryAttempt: Sendable, Equatable {
    package let eventId: String
    package let number: Int
    package let startedAt: Timestamp
    package let durationMilliseconds: Int64
    package let statusCode: Int?
    /// `timeout`, `connection_refused`, `tls`, `dns`, `blocked_address`, `redirect`, `http_status`…
    package let errorClass: String?
    /// The first 4 KiB of the response body.
    package let responseBody: String?

    package init(
        eventId: String, number: Int, startedAt: Timestamp, durationMilliseconds: Int64, statusCode: Int?,
        errorClass: String?, responseBody: String?
    ) {
        self.eventId = eventId
        self.number = number
        self.startedAt = startedAt
        self.durationMilliseconds = durationMilliseconds
        self.statusCode = statusCode
        self.errorClass = errorClass
        self.responseBody = responseBody
    }
}
