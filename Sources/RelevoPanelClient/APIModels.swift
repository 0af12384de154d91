import Foundation
import RelevoPanelKit

/// The project's integration, as the API shows it: never the secret, never the credential.
///
/// ```swift
/// let integration = try await relevo.integration()
/// print(integration.webhookUrl, integration.authType)  // "https://panel.example.com/relevo bearer"
/// ```
public struct Integration: Sendable, Hashable, Decodable {
    /// The integration's id: 24 lowercase hex characters.
    public let id: String
    /// The project's id (`brainId` on the wire).
    public let projectId: String
    /// Where Relevo POSTs the panel's events.
    public let webhookUrl: String
    /// `no_auth`, `bearer`, `api_key` or `basic`: how Relevo presents its credential to the panel.
    public let authType: String
    /// When the integration was created.
    public let createdAt: Date
    /// When the integration last changed.
    public let updatedAt: Date

    private enum CodingKeys: String, CodingKey {
        case id, webhookUrl, authType, createdAt, updatedAt
        case projectId = "brainId"
    }
}

/// A created integration and its signing secret, which the API shows only this once.
///
/// ```swift
/// let created = try await relevo.createIntegration(webhookUrl: "https://panel.example.com/relevo", auth: .bearer(token))
/// try secretStore.save(created.signingSecret)  // not shown again
/// let verifier = WebhookVerifier(secrets: [created.signingSecret])
/// ```
public struct CreatedIntegration: Sendable, Hashable, Decodable {
    /// The integration as created.
    public let integration: Integration
    /// The signing secret (64 lowercase hex characters) that signs events and replies; keep it safe.
    public let signingSecret: String

    /// Decodes the integration and its `signingSecret` from the one object the API answers.
    public init(from decoder: any Decoder) throws {
        integration = try Integration(from: decoder)
        signingSecret = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .signingSecret)
    }

    private enum Keys: String, CodingKey { case signingSecret }
}

/// A regenerated signing secret, shown only this once.
///
/// ```swift
/// let rotated = try await relevo.regenerateSecret(grace: .seconds(86_400))
/// let verifier = WebhookVerifier(secrets: [rotated.signingSecret, oldSecret])  // both during the grace period
/// ```
public struct RegeneratedSecret: Sendable, Hashable, Decodable {
    /// The new signing secret (64 lowercase hex characters): sign replies with it from now on.
    public let signingSecret: String
    /// When the secret was replaced.
    public let regeneratedAt: Date
}

/// A conversation: one hand-off from start to close.
///
/// ```swift
/// let page = try await relevo.conversations(state: .active, botId: "sales-bot")
/// for conversation in page.items { print(conversation.id, conversation.user.names) }
/// ```
public struct Conversation: Sendable, Hashable, Decodable {
    /// Whether a conversation is `active` (the panel may reply in it) or `closed` (ended, with
    /// ``Conversation/endAt`` and ``Conversation/endedReason``). Open: a value a newer Relevo adds
    /// decodes as itself rather than failing the whole answer.
    ///
    /// ```swift
    /// let active = try await relevo.conversations(state: .active)
    /// if conversation.state == .closed { print(conversation.endedReason ?? "") }
    /// ```
    public struct State: RawRepresentable, Sendable, Hashable, Decodable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
        public var description: String { rawValue }

        public static let active = State(rawValue: "active")
        public static let closed = State(rawValue: "closed")
    }

    /// The end user of a conversation (`User` on the wire).
    ///
    /// ```swift
    /// let user = try await relevo.conversation(id: conversationId).user
    /// print(user.names, user.referenceId ?? "no reference")
    /// ```
    public struct User: Sendable, Hashable, Decodable {
        /// The user's id: a reply's `user_id`, the events' `contact.id`.
        public let id: String
        /// The user's name, which events carry as `contact.name`.
        public let names: String
        /// The user's id in another system (a CRM, say); nil when unset.
        public let referenceId: String?
    }

    /// The bot of a conversation (`Bot` on the wire).
    ///
    /// ```swift
    /// let bot = try await relevo.conversation(id: conversationId).bot
    /// print(bot.id, bot.name)  // "sales-bot Sales Bot"
    /// ```
    public struct BotSummary: Sendable, Hashable, Decodable {
        /// The bot's id: a reply's `bot_id`.
        public let id: String
        /// The bot's display name.
        public let name: String
    }

    /// The conversation's id (`_id` on the wire): the events' `conversation.id`.
    public let id: String
    /// The room of the bot and the user: a reply's `room_id`.
    public let roomId: String
    /// Whether the conversation is active or closed.
    public let state: State
    /// When the conversation started.
    public let startAt: Date
    /// When the conversation was closed; nil while it is active.
    public let endAt: Date?
    /// Why the conversation was closed (`closed_by_operator`, `integration_deleted`); nil while it is active.
    public let endedReason: String?
    /// Who should take the conversation, as given at its start; nil when none was.
    public let assignment: Assignment?
    /// What was attached at the start; empty when nothing was.
    public let metadata: [String: JSONValue]
    /// The end user.
    public let user: User
    /// The bot the end user talks to.
    public let bot: BotSummary
    /// The history, when asked for (``RelevoClient/conversation(id:includeMessages:)``).
    public let messages: [HistoryMessage]?

    private enum CodingKeys: String, CodingKey {
        case roomId, state, startAt, endAt, endedReason, assignment, metadata, messages
        case id = "_id"
        case user = "User"
        case bot = "Bot"
    }
}

/// One message of a conversation's history.
///
/// ```swift
/// let conversation = try await relevo.conversation(id: conversationId, includeMessages: true)
/// for message in conversation.messages ?? [] { print(message.direction, message.value.content) }
/// ```
public struct HistoryMessage: Sendable, Hashable, Decodable {
    /// Where a message came from: `user` (the end user, on the channel), `agent` (the panel), or
    /// `system` (a start's `initialMessage` or a close's text, with ids `msg_…`).
    ///
    /// ```swift
    /// let history = try await relevo.conversation(id: conversationId, includeMessages: true).messages ?? []
    /// let agentMessages = history.filter { $0.direction == .agent }
    /// ```
    public struct Direction: RawRepresentable, Sendable, Hashable, Decodable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
        public var description: String { rawValue }

        public static let user = Direction(rawValue: "user")
        public static let agent = Direction(rawValue: "agent")
        public static let system = Direction(rawValue: "system")
    }

    /// Where the message came from.
    public let direction: Direction
    /// The message: its id, type and content.
    public let value: MessageValue
    /// When Relevo recorded the message.
    public let createdAt: Date

    private enum Keys: String, CodingKey { case direction, createdAt }

    /// Decodes `{"direction", "id", "type", "content", "createdAt"}`: the message's members sit beside the others.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        direction = try container.decode(Direction.self, forKey: .direction)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        value = try MessageValue(from: decoder)  // id, type and content sit beside them
    }
}

/// An event of the event log: sent to the panel, or to a bot's channel.
///
/// ```swift
/// let failed = try await relevo.events(status: .failed, limit: 50)
/// for event in failed.items { print(event.id, event.eventType, event.attemptCount) }
/// ```
public struct LoggedEvent: Sendable, Hashable, Decodable {
    /// Where an event is in its delivery: `pending` (waiting for its first or next attempt), `delivering`
    /// (an attempt in flight), `delivered`, `failed` (attempts exhausted, or a `410` answer), `cancelled`
    /// (the integration was deleted) or `held` (the bot's channel has no address). Open: a status a
    /// newer Relevo adds decodes as itself rather than failing the whole page.
    ///
    /// ```swift
    /// let event = try await relevo.event(id: eventId)
    /// if event.status == .failed { try await relevo.redeliver(eventId: event.id) }
    /// ```
    public struct Status: RawRepresentable, Sendable, Hashable, Decodable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
        public var description: String { rawValue }

        public static let pending = Status(rawValue: "pending")
        public static let delivering = Status(rawValue: "delivering")
        public static let delivered = Status(rawValue: "delivered")
        public static let failed = Status(rawValue: "failed")
        public static let cancelled = Status(rawValue: "cancelled")
        public static let held = Status(rawValue: "held")
    }

    /// The event's id (`evt_…`): the `webhook-id` of every attempt to deliver it.
    public let id: String
    /// `panel` or `channel`.
    public let destination: String
    /// The bot whose channel the event goes to; nil for panel events.
    public let botId: String?
    /// `conversation.start`, `message` or `conversation.close` for the panel; `outgoing_message` or `bot.resume` for a channel.
    public let eventType: String
    /// Where the event is in its delivery.
    public let status: Status
    /// The conversation the event belongs to, if any.
    public let conversationId: String?
    /// How many attempts were made so far.
    public let attemptCount: Int
    /// When the next attempt is due; set only while the event is `pending`.
    public let nextAttemptAt: Date?
    /// When the event was created.
    public let createdAt: Date
    /// When the event settled as `delivered`, `failed` or `cancelled`; nil while it is pending, delivering or held.
    public let finishedAt: Date?
    /// The body as sent (``RelevoClient/event(id:)`` only).
    public let body: JSONValue?
    /// Every attempt, oldest first (``RelevoClient/event(id:)`` only).
    public let attempts: [DeliveryAttempt]?
}

/// One attempt to deliver an event.
///
/// ```swift
/// let event = try await relevo.event(id: eventId)
/// for attempt in event.attempts ?? [] { print(attempt.number, attempt.statusCode ?? 0, attempt.errorClass ?? "") }
/// ```
public struct DeliveryAttempt: Sendable, Hashable, Decodable {
    /// The attempt's number, from 1.
    public let number: Int
    /// When the attempt started.
    public let startedAt: Date
    /// How long the attempt took, in milliseconds.
    public let durationMs: Int
    /// The HTTP status of the answer, or nil when there was none (see ``errorClass``).
    public let statusCode: Int?
    /// `timeout`, `connection_refused`, `tls`, `dns`, `blocked_address`, `redirect`…
    public let errorClass: String?
    /// The first 4 KiB of the answer's body.
    public let responseBody: String?
}

/// What the panel webhook answered to an agent's reply (a resend of the same message id gets the same receipt).
///
/// ```swift
/// let receipt = try await replies.send(AgentReply(answering: message, value: value))
/// print(receipt.messageId, receipt.conversationId)
/// ```
public struct ReplyReceipt: Sendable, Hashable, Decodable {
    /// The reply's `value.id`.
    public let messageId: String
    /// The conversation the message was recorded in.
    public let conversationId: String
}

/// One page of a list, newest first; `nextCursor` is nil on the last page.
///
/// ```swift
/// var cursor: String? = nil
/// repeat {
///     let page = try await relevo.events(status: .failed, cursor: cursor)
///     for event in page.items { print(event.id) }
///     cursor = page.nextCursor
/// } while cursor != nil
/// ```
public struct Page<Item: Sendable & Hashable>: Sendable, Hashable {
    /// The page's items, newest first.
    public let items: [Item]
    /// What to pass as `cursor` for the next page; nil on the last page.
    public let nextCursor: String?
}

/// An answer other than 2xx: the error envelope's status, key and message.
///
/// ```swift
/// do {
///     _ = try await relevo.startConversation(botId: "sales-bot", userId: "ana")
/// } catch let error as RelevoAPIError where error.key == "CONVERSATION_ALREADY_ACTIVE" {
///     print(error.message)  // "Conversation already active"
/// }
/// ```
public struct RelevoAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status, such as 404 or 422.
    public let status: Int
    /// `INTEGRATION_NOT_FOUND`, `VALIDATOR_ERROR`, `INVALID_SIGNATURE`…; `HTTP_<status>` for an answer without an envelope.
    public let key: String
    /// The envelope's first message, in English.
    public let message: String
    /// For validation failures: each offending field and its problems, in English.
    public let fieldErrors: [String: [String]]
    /// How long to wait before sending the same request again, from `Retry-After` (429 and 503).
    public let retryAfter: Duration?

    init(status: Int, answer: Data, retryAfter: String? = nil) {
        self.status = status
        self.retryAfter = retryAfter.flatMap { Int64($0) }.map { .seconds($0) }
        let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: answer)
        key = envelope?.error.key ?? "HTTP_\(status)"
        message = envelope?.message.first ?? String(decoding: answer.prefix(200), as: UTF8.self)
        fieldErrors = envelope?.validationError?.mapValues { $0.compactMap { $0["en"] } } ?? [:]
    }

    /// Status, key, message and any field errors on one line, for logs.
    public var description: String {
        let fields = fieldErrors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.joined(separator: "; "))" }
        return "\(status) \(key): \(message)" + (fields.isEmpty ? "" : " (\(fields.joined(separator: ", ")))")
    }

    private struct ErrorEnvelope: Decodable {
        struct Detail: Decodable { let key: String }
        let message: [String]
        let error: Detail
        let validationError: [String: [[String: String]]]?
    }
}

/// The success envelope around every answer's `data`.
struct Envelope<Payload: Decodable>: Decodable {
    let data: Payload

    private enum Keys: String, CodingKey { case data }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        // A delete answers without `data`.
        if Payload.self == Empty.self, !container.contains(.data) {
            data = Empty() as! Payload
        } else {
            data = try container.decode(Payload.self, forKey: .data)
        }
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = ISOTime.date(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO-8601 time: \(text)"))
            }
            return date
        }
        return decoder
    }
}

struct Empty: Decodable {}

struct ConversationPage: Decodable {
    let conversations: [Conversation]
    let nextCursor: String?
}

struct EventPage: Decodable {
    let events: [LoggedEvent]
    let nextCursor: String?
}

struct RedeliveryCount: Decodable {
    let count: Int
}

/// The API's times: ISO-8601 UTC with milliseconds.
enum ISOTime {
    static func date(_ text: String) -> Date? {
        formatter(fractional: true).date(from: text) ?? formatter(fractional: false).date(from: text)
    }

    static func string(_ date: Date) -> String {
        formatter(fractional: true).string(from: date)
    }

    private static func formatter(fractional: Bool) -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = fractional ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter
    }
}
